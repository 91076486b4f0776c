// cflags:
/* What a program inherits from whoever started it, written as "key=value"
 * lines to the file named by argv[1] (opened last, so it is not among the
 * fds listed): signal dispositions and mask (/proc/self/status), scheduling
 * policy, priority and nice, CPU affinity, personality, parent pid, umask,
 * working directory, and the open fds above 2. Used to compare a run under
 * tether with the same run started by subprocess (test_fidelity.py). */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char out[16384];
static size_t used;

static void put(const char *key, const char *value)
{
    used += snprintf(out + used, sizeof out - used, "%s=%s\n", key, value);
}

static int by_number(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char line[512], value[4096];
    FILE *status = fopen("/proc/self/status", "r");
    if (!status)
        return 3;
    while (fgets(line, sizeof line, status)) {
        static const char *keys[] = {"SigBlk", "SigIgn", "SigCgt", "Cpus_allowed_list"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            size_t n = strlen(keys[i]);
            if (strncmp(line, keys[i], n) == 0 && line[n] == ':') {
                char *v = line + n + 1;
                v += strspn(v, " \t");
                v[strcspn(v, "\n")] = 0;
                put(keys[i], v);
            }
        }
    }
    fclose(status);
    struct sched_param param;
    sched_getparam(0, &param);
    snprintf(value, sizeof value, "%d/%d/%d", sched_getscheduler(0), param.sched_priority,
             getpriority(PRIO_PROCESS, 0));
    put("sched", value);
    snprintf(value, sizeof value, "%#x", personality(0xffffffff));
    put("personality", value);
    snprintf(value, sizeof value, "%d", (int)getppid());
    put("ppid", value);
    mode_t mask = umask(0);
    snprintf(value, sizeof value, "%03o", (unsigned)mask);
    put("umask", value);
    put("cwd", getcwd(value, sizeof value) ? value : "?");
    /* The fds above 2, without the one reading the directory. */
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return 4;
    int fds[1024], nfds = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && nfds < 1024) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd > 2 && fd != dirfd(dir))
            fds[nfds++] = fd;
    }
    closedir(dir);
    qsort(fds, nfds, sizeof fds[0], by_number);
    size_t at = 0;
    value[0] = 0;
    for (int i = 0; i < nfds; i++)
        at += snprintf(value + at, sizeof value - at, "%s%d", i ? "," : "", fds[i]);
    put("fds", value);
    FILE *f = fopen(argv[1], "w");
    if (!f)
        return 5;
    fputs(out, f);
    fclose(f);
    return 0;
}
