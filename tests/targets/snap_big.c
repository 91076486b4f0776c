/* Snapshot cost target (used by a timing script, not by a timed test):
 * maps 256 MiB of anonymous memory, touches every page so it is really
 * backed, then calls big_ready() where the script snapshots it. */
#include <string.h>
#include <sys/mman.h>

#define BIG (256UL << 20)

__attribute__((noinline)) void big_ready(char *p) { (void)p; __asm__ volatile("" ::: "memory"); }

int main(void)
{
    char *p = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 2;
    for (unsigned long i = 0; i < BIG; i += 4096)
        p[i] = (char)(i >> 12);
    big_ready(p);
    return 0;
}
