/* Stray processes of rank worlds (strays.h). */
#include "strays.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int strays_adopt(char *err, size_t err_len)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        snprintf(err, err_len, "cannot become a child subreaper: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The parent pid in /proc/<pid>/stat, or -1, and the state letter ('Z' a
 * zombie). The command name (field 2) is in parentheses and may hold spaces
 * and ')': the fields after it start after the last ')'. */
static pid_t parent_of(const char *pid, char *state)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close = strrchr(buf, ')');
    int ppid;
    if (!close || sscanf(close + 1, " %c %d", state, &ppid) != 2)
        return -1;
    return (pid_t)ppid;
}

/* One pass over /proc for this process's children but `keep`: the ones
 * that already exited (zombies) are reaped and not counted; when `kill_live`,
 * the live ones are killed, reaped and counted. Returns how many live
 * children there were. */
static int reap_pass(pid_t self, pid_t keep, int kill_live)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int live = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char state = 0;
        if (!isdigit((unsigned char)e->d_name[0]) || parent_of(e->d_name, &state) != self)
            continue;
        const pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);
        if (pid == keep)
            continue;
        if (state != 'Z') {
            live++;
            if (!kill_live)
                continue;
            kill(pid, SIGKILL);
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    closedir(d);
    return live;
}

int strays_reap(pid_t keep)
{
    const pid_t self = getpid();
    int total = 0;
    /* Each pass may orphan the killed processes' own children onto us. */
    for (int pass = 0; pass < 64; pass++) {
        const int n = reap_pass(self, keep, 1);
        if (n == 0)
            break;
        total += n;
    }
    return total;
}

int strays_settle(double seconds)
{
    const pid_t self = getpid();
    const struct timespec tick = {0, 10 * 1000 * 1000};
    for (double waited = 0; waited < seconds; waited += 0.01) {
        if (reap_pass(self, 0, 0) == 0)
            return 0;
        nanosleep(&tick, NULL);
    }
    return reap_pass(self, 0, 0);
}
