// cflags: -pthread
/* Output attribution target (tests/e2e/test_output_attribution.py): the
 * parent and NCHILD forked children each run two writers (the main thread
 * and one more thread), all at once, each writing ROUNDS messages to stdout
 * and stderr through different descriptors of the same files:
 *   - fd 1 and fd 2 themselves, dup2(1, 7) and dup2(2, 9) (set up before the
 *     forks), and in each thread an fcntl(1, F_DUPFD, 20) of its own;
 *   - child 2 closes 1, 2 and 7 and writes its stdout through a descriptor
 *     the parent sends it over a unix socket (SCM_RIGHTS);
 *   - write(2), writev(2) with three pieces, and sendfile(2) from a memfd;
 *   - every 10th message is LARGE bytes long (more than PIPE_BUF and more
 *     than a pty's buffer), the others 20..200.
 * A message is "<wWW:SSS:LLLLLL>" then filler: the writer's letter, ending
 * in a newline, LLLLLL bytes in all. Writer WW = 2 * process + thread
 * (process 0: the parent, 1..NCHILD: children in fork order; thread 0: the
 * main thread). Each message is written whole (partial writes are
 * continued), so every writer's bytes of one stream are its messages in
 * order. Exits 0 when every write succeeded and every child exited 0. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define NCHILD 3
#define ROUNDS 30
#define LARGE 70000

static int out_fd_alt = 7, err_fd_alt = 9;
static volatile int failed;

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            failed = 1;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void writev_all(int fd, const char *p, size_t n)
{
    /* Three pieces; a partial writev is finished with write_all. */
    size_t a = n / 3, b = n / 3;
    struct iovec iov[3] = {{(void *)p, a}, {(void *)(p + a), b}, {(void *)(p + a + b), n - a - b}};
    ssize_t w = writev(fd, iov, 3);
    if (w < 0) {
        failed = 1;
        return;
    }
    write_all(fd, p + w, n - (size_t)w);
}

static void sendfile_all(int fd, const char *p, size_t n)
{
    int mfd = memfd_create("msg", 0);
    if (mfd < 0) {
        write_all(fd, p, n);
        return;
    }
    write_all(mfd, p, n);
    off_t off = 0;
    while ((size_t)off < n) {
        ssize_t w = sendfile(fd, mfd, &off, n - (size_t)off);
        if (w <= 0) {
            /* No sendfile to this kind of file: the rest the plain way. */
            write_all(fd, p + off, n - (size_t)off);
            break;
        }
    }
    close(mfd);
}

static void message(int fd, int writer, int seq, int how)
{
    size_t len = seq % 10 == 9 ? LARGE : 20 + (size_t)((seq * 37 + writer * 11) % 181);
    char *buf = malloc(len);
    int h = snprintf(buf, len, "<w%02d:%03d:%06zu>", writer, seq, len);
    memset(buf + h, 'A' + writer, len - (size_t)h - 1);
    buf[len - 1] = '\n';
    if (how == 0)
        write_all(fd, buf, len);
    else if (how == 1)
        writev_all(fd, buf, len);
    else
        sendfile_all(fd, buf, len);
    free(buf);
}

struct writer {
    int id;
    int out, err;
};

static void *run_writer(void *arg)
{
    struct writer *w = arg;
    for (int seq = 0; seq < ROUNDS; seq++) {
        int to_err = seq % 4 == 3;
        int fd = to_err ? w->err : w->out;
        message(fd, w->id, seq, seq % 3);
        if (seq % 5 == 0)
            usleep(100);  /* let the others in between */
    }
    return NULL;
}

static void two_writers(int process, int out, int err)
{
    /* The thread writes through descriptors of its own, made with F_DUPFD. */
    struct writer main_w = {2 * process, out, err};
    struct writer thread_w = {2 * process + 1, fcntl(out, F_DUPFD, 20), fcntl(err, F_DUPFD, 20)};
    if (thread_w.out < 0 || thread_w.err < 0)
        failed = 1;
    pthread_t t;
    if (pthread_create(&t, NULL, run_writer, &thread_w) != 0) {
        failed = 1;
        return;
    }
    run_writer(&main_w);
    pthread_join(t, NULL);
}

static int receive_fd(int sock)
{
    char byte;
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control, .msg_controllen = sizeof control};
    if (recvmsg(sock, &msg, 0) != 1)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c == NULL || c->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static int send_fd(int sock, int fd)
{
    char byte = 'f';
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

int main(void)
{
    if (dup2(1, out_fd_alt) != out_fd_alt || dup2(2, err_fd_alt) != err_fd_alt)
        return 90;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 91;
    pid_t pids[NCHILD];
    for (int i = 1; i <= NCHILD; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return 92;
        if (pid == 0) {
            int out = i % 2 ? out_fd_alt : 1, err = i % 2 ? 2 : err_fd_alt;
            if (i == 2) {
                /* Its stdout only through the descriptor the parent sends. */
                close(sv[1]);
                close(1);
                close(out_fd_alt);
                out = receive_fd(sv[0]);
                if (out < 0)
                    _exit(93);
            }
            two_writers(i, out, err);
            _exit(failed ? 94 : 0);
        }
        pids[i - 1] = pid;
    }
    int sent = open("/proc/self/fd/1", O_WRONLY);  /* the same pty, opened anew */
    if (sent < 0 || send_fd(sv[1], sent) != 0)
        return 95;
    close(sent);
    two_writers(0, 1, err_fd_alt);
    int status = 0;
    for (int i = 0; i < NCHILD; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            status = 96;
    }
    return failed ? 97 : status;
}
