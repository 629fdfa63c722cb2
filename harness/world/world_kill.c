#include "world_kill.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

/* Whether root holds an entry whose name starts with `prefix` (and, for a
 * committed checkpoint, is "step-" followed by digits only). */
static int has_entry(const char *root, int committed)
{
    DIR *d = opendir(root);
    if (!d)
        return 0;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
        const char *n = e->d_name;
        if (committed) {
            found = strncmp(n, "step-", 5) == 0 && n[5] != 0 &&
                    strspn(n + 5, "0123456789") == strlen(n + 5);
        } else {
            found = strncmp(n, ".step-", 6) == 0 && strstr(n, ".partial-") != NULL;
        }
    }
    closedir(d);
    return found;
}

static void sleep_s(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static pid_t read_pid(const char *root, int rank)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/.rank-%d.pid", root, rank);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return pid > 1 ? (pid_t)pid : 0;
}

static void *watch(void *arg)
{
    world_killer *k = arg;
    const double poll = 0.0005;
    while (!k->stop && !has_entry(k->root, 1))
        sleep_s(poll);
    const double seen = monotonic_seconds();
    if (k->rank == WORLD_KILL_OBSERVE) {
        char trained[PATH_MAX + 16];
        snprintf(trained, sizeof trained, "%s/.trained", k->root);
        while (!k->stop && access(trained, F_OK) != 0)
            sleep_s(poll);
        if (access(trained, F_OK) == 0)
            k->after_s = monotonic_seconds() - seen;
        return NULL;
    }
    while (!k->stop && monotonic_seconds() - seen < k->delay_s)
        sleep_s(poll);
    if (k->stop)
        return NULL;
    const pid_t pid = read_pid(k->root, k->rank);
    k->during_save = has_entry(k->root, 0);
    if (pid > 0 && kill(pid, SIGKILL) == 0) {
        k->killed = 1;
        k->after_s = monotonic_seconds() - seen;
    }
    return NULL;
}

int world_killer_start(world_killer *k, const char *root, int rank, double delay_s)
{
    memset(k, 0, sizeof *k);
    if (snprintf(k->root, sizeof k->root, "%s", root) >= (int)sizeof k->root)
        return -1;
    k->rank = rank;
    k->delay_s = delay_s;
    return pthread_create(&k->thread, NULL, watch, k) == 0 ? 0 : -1;
}

void world_killer_stop(world_killer *k, int *killed, double *after_s, int *during_save)
{
    atomic_store(&k->stop, 1);
    pthread_join(k->thread, NULL);
    *killed = k->killed;
    *after_s = k->after_s;
    *during_save = k->during_save;
}
