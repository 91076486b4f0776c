// cflags: -pthread
/* conform: the shapes libdebug 0.9's own tests run on, in one program.
 * Prints "ready", then:
 *   chain: pp_greeting -> p_greeting -> greeting ("Hello, tether!"), and
 *          heap_block (malloc'd, holds "heapdata" and a pointer back to
 *          greeting), so find_pointers, telescope and find have targets;
 *   calls c_fn(1) -> b_fn -> a_fn (finish, step_until, breakpoints);
 *   loop_fn() adds 0, 1, 2 into `watched` and reads it back (watchpoints);
 *   argv[1] == "threads": two threads call a_fn(10) and a_fn(20);
 * prints "bye" and exits with status 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char greeting[] = "Hello, tether!";
char *p_greeting = greeting;
char **pp_greeting = &p_greeting;
void *loop_a;                /* points to itself: a telescope loop */
char **heap_block;
volatile long watched;
volatile long seen;

__attribute__((noinline)) long a_fn(long x) { return x + 1; }
__attribute__((noinline)) long b_fn(long x) { long r = a_fn(x); return r * 2; }
__attribute__((noinline)) long c_fn(long x) { long r = b_fn(x); return r + 3; }

__attribute__((noinline)) void loop_fn(void)
{
    for (int i = 0; i < 3; i++)
        watched += i;
    seen = watched;
}

static void *thread_body(void *arg) { a_fn((long)arg); return NULL; }

int main(int argc, char **argv)
{
    loop_a = &loop_a;
    heap_block = malloc(64);
    strcpy((char *)(heap_block + 1), "heapdata");
    heap_block[0] = greeting;
    printf("ready\n");
    fflush(stdout);
    long r = c_fn(1);
    loop_fn();
    if (argc > 1 && !strcmp(argv[1], "threads")) {
        pthread_t t[2];
        pthread_create(&t[0], NULL, thread_body, (void *)10);
        pthread_create(&t[1], NULL, thread_body, (void *)20);
        pthread_join(t[0], NULL);
        pthread_join(t[1], NULL);
    }
    printf("bye %ld\n", r);
    fflush(stdout);
    free(heap_block);
    return 0;
}
