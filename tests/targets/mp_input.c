// cflags:
/* A chain of forks ending in input, the shape of libdebug's multiprocessing
 * tests: usage mp_input [forks=1]. Each process forks the next one (up to
 * `forks` forks) and both sides call after_fork(); a parent then waits for
 * its child and exits 0. The last process prompts "Enter your input: ",
 * reads a line and prints "You entered: <line>", then exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile int level;

__attribute__((noinline)) void after_fork(int pid) { (void)pid; }

int main(int argc, char **argv)
{
    int forks = argc > 1 ? atoi(argv[1]) : 1;
    setvbuf(stdout, NULL, _IONBF, 0);
    for (level = 0; level < forks; level++) {
        int pid = fork();
        after_fork(pid);
        if (pid != 0) {
            int status;
            waitpid(pid, &status, 0);
            return 0;
        }
    }
    char line[64] = "";
    printf("Enter your input: ");
    if (fgets(line, sizeof line, stdin) != NULL)
        line[strcspn(line, "\n")] = 0;
    printf("You entered: %s\n", line);
    return 0;
}
