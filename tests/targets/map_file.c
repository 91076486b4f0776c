/* map_file: maps the file named by argv[1] (read-only, shared) into its
 * address space, then calls mapped() so a test can stop there and look at
 * its maps and symbols; the hostile-input tests give it a 1 GiB sparse file. */
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
    if (argc < 2)
        return 2;
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return 3;
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return 4;
    mapped(p);
    munmap(p, (size_t)st.st_size);
    close(fd);
    return 0;
}
