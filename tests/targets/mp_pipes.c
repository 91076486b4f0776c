// cflags:
/* Children share the parent's stdin/stdout (SPEC 2.7). The parent prints
 * "parent line" and forks; the child prints "child line", reads a line from
 * stdin and prints "child got <line>", exits 0. The parent waits, prints
 * "parent done", then reads one more line ("bye") before exiting
 * 40 + the child's status, or 3 if that line is not "bye". */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    char line[128];
    int st;
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("parent line\n");
    int pid = fork();
    if (pid == 0) {
        printf("child line\n");
        ssize_t n = read(0, line, sizeof line - 1);
        if (n <= 0)
            _exit(1);
        line[n] = 0;
        line[strcspn(line, "\n")] = 0;
        printf("child got %s\n", line);
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return 91;
    printf("parent done\n");
    ssize_t n = read(0, line, sizeof line - 1);
    if (n < 3 || memcmp(line, "bye", 3) != 0)
        return 3;
    return 40 + WEXITSTATUS(st);
}
