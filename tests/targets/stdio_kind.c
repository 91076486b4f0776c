/* stdio_kind: reports whether stdin, stdout and stderr are terminals, then
 * prints one line with printf and no fflush and blocks reading stdin: the
 * line only arrives before the read if stdout is line-buffered (a terminal,
 * as libdebug 0.9 provides with a pty), not if it is a plain pipe. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char buf[16];
    dprintf(1, "isatty stdin=%d stdout=%d stderr=%d\n", isatty(0), isatty(1), isatty(2));
    printf("buffered line\n");
    read(0, buf, sizeof buf);
    return 0;
}
