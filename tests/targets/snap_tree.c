/* Tree snapshot target: the parent forks one child and reports its pid to
 * parent_point(); the child calls child_point(1), sets `value` to 42, calls
 * child_point(2) and exits 0. The parent waits for it and exits with the
 * child's status. */
#include <sys/wait.h>
#include <unistd.h>

volatile long value = 0;

__attribute__((noinline)) void parent_point(int child) { (void)child; __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void child_point(int n) { (void)n; __asm__ volatile("" ::: "memory"); }

int main(void)
{
    int st;
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        child_point(1);
        value = 42;
        child_point(2);
        _exit(0);
    }
    parent_point(pid);
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return 4;
    return WEXITSTATUS(st);
}
