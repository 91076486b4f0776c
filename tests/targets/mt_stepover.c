// cflags: -pthread
/* mt_stepover: 4 threads each call bump() 5000 times. bump()'s first
 * instruction (lock incq) is not one tether emulates, so a breakpoint on it
 * is stepped over with the int3 lifted: the other threads must not run
 * through it unseen meanwhile. Exits 0 if the counter is right. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define CALLS 5000

volatile long counter;
void bump(void);
__asm__(".text\n"
        ".globl bump\n"
        ".type bump, @function\n"
        "bump:\n"
        "    lock incq counter(%rip)\n"
        "    ret\n");

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < CALLS; i++)
        bump();
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("counter=%ld\n", counter);
    return counter == (long)THREADS * CALLS ? 0 : 1;
}
