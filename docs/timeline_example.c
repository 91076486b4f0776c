/* The program behind docs/timeline.svg: two threads opening a file, a
 * signal to itself, and a child that execs a shell pipeline. Made with
 *   gcc -O1 -pthread -o timeline_example docs/timeline_example.c
 *   tether trace -f -e trace=all --timeline t.json -o /dev/null -- ./timeline_example
 *   python docs/draw_timeline.py t.json docs/timeline.svg */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
static void *worker(void *arg) { for (int i = 0; i < 3; i++) { usleep(2000); close(open("/etc/hostname", O_RDONLY)); } return arg; }
static void on_usr1(int s) { (void)s; }
int main(void) {
    signal(SIGUSR1, on_usr1);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], 0, worker, 0);
    pid_t c = fork();
    if (c == 0) { usleep(3000); execlp("sh", "sh", "-c", "echo hello | tr a-z A-Z", (char *)0); _exit(1); }
    usleep(1000); kill(getpid(), SIGUSR1);
    for (int i = 0; i < 2; i++) pthread_join(t[i], 0);
    waitpid(c, 0, 0);
    return 0;
}
