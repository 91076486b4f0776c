/* Snapshot target: between first_stop() and second_stop() the program changes
 * a global, 16 bytes of a heap buffer, the argument registers (rdi and
 * xmm0) and maps one new page at a fixed address. The test puts
 * breakpoints on both functions and compares the snapshots taken there.
 * Exit code 0. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NEW_PAGE ((void *)0x100000000000UL)

volatile long counter = 7;
char *heap_buffer;

__attribute__((noinline)) void first_stop(long tag, char *buf, double f)
{
    (void)tag; (void)buf; (void)f;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void second_stop(long tag, char *buf, double f, char *page)
{
    (void)tag; (void)buf; (void)f; (void)page;
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    heap_buffer = malloc(256);
    if (!heap_buffer)
        return 2;
    memset(heap_buffer, 'A', 256);
    first_stop(0x1111, heap_buffer, 1.5);
    counter = 0x1234;
    memcpy(heap_buffer + 32, "changed by test!", 16);
    char *page = mmap(NEW_PAGE, 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (page == MAP_FAILED)
        return 3;
    page[0] = 'P';
    second_stop(0x2222, heap_buffer, 2.5, page);
    return 0;
}
