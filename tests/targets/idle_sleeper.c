/* idle_sleeper N SECONDS: forks N children; everyone sleeps SECONDS, then the
 * parent reaps its children and exits 0. Used to check that tether uses no
 * CPU while its tracees sleep (no polling loops). */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 0;
    int seconds = argc > 2 ? atoi(argv[2]) : 1;
    for (int i = 0; i < n; i++)
        if (fork() == 0) {
            sleep(seconds);
            _exit(0);
        }
    sleep(seconds);
    while (wait(NULL) > 0)
        ;
    return 0;
}
