/* map_file: maps each file named on its command line (read-only, shared)
 * into its address space, then calls mapped() so a test can stop there and
 * look at its maps and symbols; the hostile-input tests give it 1 GiB sparse
 * files. Exits 0, or 3 if a file can't be opened, 4 if it can't be mapped. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((noinline)) void mapped(void *where)
{
    __asm__ volatile("" : : "r"(where) : "memory");
}

int main(int argc, char **argv)
{
    void *last = NULL;
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0)
            return 3;
        last = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (last == MAP_FAILED)
            return 4;
        close(fd);
    }
    mapped(last);
    return 0;
}
