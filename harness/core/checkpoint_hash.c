/*
 * Checkpoints: the array files' checks, one thread per file. Hashing runs
 * at the speed of one core (SHA-256 is sequential within a file), so a
 * checkpoint of k array files is hashed in the time of one file when
 * there are k cores. The outcome never depends on the threads' timing:
 * every job runs to its end, and the message is that of the first job in
 * array order that failed, as if they had run one after the other.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint_files_internal.h"

int ckpt_check_array_file(int fd, int64_t n, size_t *header_len, char *why, size_t why_len)
{
    char want[NPY_HEADER_CAP], got[NPY_HEADER_CAP];
    struct stat st;
    if (ckpt_array_header(n, want, header_len) || fstat(fd, &st) != 0) {
        snprintf(why, why_len, "cannot stat it: %s", strerror(errno));
        return -1;
    }
    const int64_t bytes = (int64_t)*header_len + 4 * n;
    if (!S_ISREG(st.st_mode) || (int64_t)st.st_size != bytes) {
        snprintf(why, why_len, "is %lld bytes, not %" PRId64 " (torn or modified)",
                 (long long)st.st_size, bytes);
        return -1;
    }
    if (ckpt_pread_all(fd, got, *header_len, 0) || memcmp(got, want, *header_len) != 0) {
        snprintf(why, why_len, "does not start with the .npy header of float32 (%" PRId64 ",)", n);
        return -1;
    }
    return 0;
}

/* One job, its outcome and its thread. */
typedef struct slot {
    ckpt_array_job job;
    void *ctx;
    int i;
    int rc;
    char msg[CKPT_MSG_LEN];
    pthread_t thread;
    int threaded; /* 1: thread runs it and must be joined */
} slot;

static void *run_slot(void *arg)
{
    slot *s = arg;
    s->rc = s->job(s->ctx, s->i, s->msg, sizeof s->msg);
    return NULL;
}

int ckpt_each_array(int n, ckpt_array_job job, void *ctx, char *err, size_t err_len)
{
    slot slots[DTB_CKPT_ARRAY_COUNT];
    if (n < 0 || n > DTB_CKPT_ARRAY_COUNT) {
        snprintf(err, err_len, "checkpoint: %d array files (at most %d)", n, DTB_CKPT_ARRAY_COUNT);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        slot *s = &slots[i];
        *s = (slot){.job = job, .ctx = ctx, .i = i};
        /* No thread to be had (EAGAIN): the same job here, with the same outcome. */
        s->threaded = pthread_create(&s->thread, NULL, run_slot, s) == 0;
        if (!s->threaded)
            run_slot(s);
    }
    for (int i = 0; i < n; i++) {
        slot *s = &slots[i];
        const int e = s->threaded ? pthread_join(s->thread, NULL) : 0;
        if (e != 0) {
            s->rc = -1;
            snprintf(s->msg, sizeof s->msg, "checkpoint: waiting for array file %d's check: %s", i,
                     strerror(e));
        }
    }
    for (int i = 0; i < n; i++)
        if (slots[i].rc != 0) {
            snprintf(err, err_len, "%s", slots[i].msg);
            return -1;
        }
    return 0;
}
