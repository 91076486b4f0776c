/* stdin_echo: prints a prompt, then echoes each stdin line as "echo: <line>"
 * until it reads "quit" (or EOF); then writes "last words" to stdout and
 * "bye on stderr" to stderr and exits with code 3 at once. The last outputs
 * are written right before exit, to check nothing is lost after death. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char line[256];
    printf("prompt> ");
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        if (strcmp(line, "quit") == 0)
            break;
        printf("echo: %s\n", line);
        fflush(stdout);
    }
    write(1, "last words\n", 11);
    write(2, "bye on stderr\n", 14);
    _exit(3);
}
