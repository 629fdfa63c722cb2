/*
 * Checkpoints: the reading side of checkpoint_files.h. A reader is open
 * only once the manifest and every array file have passed their checks:
 * size and .npy header always, sha256 unless the caller vouches for it
 * (ckpt_open_unverified); the files are checked one thread each.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_files_internal.h"

/* ---- open ----------------------------------------------------------------------- */

/* What each array's job needs; a job writes only its own array's fd and header_len. */
typedef struct open_ctx {
    ckpt_reader *r;
    const int32_t *arrays;
    char (*sums)[SHA256_HEX_LEN];
    int verify; /* 1: the file's sha256 must be the manifest's */
} open_ctx;

/* Opens the i-th array's file and checks its size, header and (when
 * verifying) sha256 against the manifest. */
static int open_array(void *arg, int i, char *err, size_t err_len)
{
    const open_ctx *c = arg;
    ckpt_reader *r = c->r;
    const int32_t a = c->arrays[i];
    char path[PATH_MAX], file[40], why[200], got[SHA256_HEX_LEN];
    snprintf(file, sizeof file, "%s.npy", ckpt_array_name(a));
    if (ckpt_join(path, sizeof path, r->dir, file)) {
        snprintf(err, err_len, "checkpoint %s: path too long", r->dir);
        return -1;
    }
    if ((r->fd[a] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, err_len, "checkpoint %s: %s %s", r->dir, file,
                 errno == ENOENT ? "is missing" : strerror(errno));
        return -1;
    }
    if (ckpt_check_array_file(r->fd[a], r->meta.n_params, &r->header_len[a], why, sizeof why)) {
        snprintf(err, err_len, "checkpoint %s: %s %s", r->dir, file, why);
        return -1;
    }
    if (!c->verify)
        return 0;
    if (sha256_fd(r->fd[a], file, got, why, sizeof why)) {
        snprintf(err, err_len, "checkpoint %s: %s", r->dir, why);
        return -1;
    }
    if (strcmp(got, c->sums[a]) != 0) {
        snprintf(err, err_len,
                 "checkpoint %s: %s does not match its sha256 in manifest.json (torn or modified)",
                 r->dir, file);
        return -1;
    }
    return 0;
}

/* ckpt_open, with the files' sha256 compared when verify is 1. */
static int open_reader(ckpt_reader *r, const char *dir, int verify, char *err, size_t err_len)
{
    memset(r, 0, sizeof *r);
    for (int a = 0; a < DTB_CKPT_ARRAY_COUNT; a++)
        r->fd[a] = -1;
    if (ckpt_trim_slashes(dir, r->dir, sizeof r->dir)) {
        snprintf(err, err_len, "checkpoint '%.200s': not a usable path", dir);
        return -1;
    }
    struct stat st;
    if (stat(r->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "checkpoint %s: %s", r->dir,
                 errno == ENOENT ? "no such directory" : "not a directory");
        return -1;
    }
    char sums[DTB_CKPT_ARRAY_COUNT][SHA256_HEX_LEN];
    if (ckpt_load_manifest(r->dir, &r->meta, sums, err, err_len))
        return -1;
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    open_ctx c = {r, arrays, sums, verify};
    if (ckpt_each_array(ckpt_arrays_of(r->meta.optimizer, arrays), open_array, &c, err, err_len)) {
        ckpt_close(r);
        return -1;
    }
    return 0;
}

int ckpt_open(ckpt_reader *r, const char *dir, char *err, size_t err_len)
{
    return open_reader(r, dir, 1, err, err_len);
}

int ckpt_open_unverified(ckpt_reader *r, const char *dir, char *err, size_t err_len)
{
    return open_reader(r, dir, 0, err, err_len);
}

/* ---- read, close ------------------------------------------------------------------ */

int ckpt_read(ckpt_reader *r, int32_t array, int64_t first, int64_t count, float *out, char *err,
              size_t err_len)
{
    const char *name = ckpt_array_name(array);
    const int64_t n = r->meta.n_params;
    char range[48];
    if (!name || r->fd[array] < 0) {
        snprintf(err, err_len, "checkpoint %s: it holds no array %s", r->dir,
                 name ? name : "of that number");
        return -1;
    }
    if (count < 0 || (count > 0 && (first < 0 || first > n || count > n - first))) {
        snprintf(err, err_len,
                 "checkpoint %s: %s elements from %" PRId64 ", %" PRId64
                 " of them, are outside 0..%" PRId64,
                 r->dir, name, first, count, n - 1);
        return -1;
    }
    if (count == 0)
        return 0;
    if (ckpt_pread_all(r->fd[array], out, (size_t)count * 4,
                       (int64_t)r->header_len[array] + 4 * first)) {
        snprintf(err, err_len, "checkpoint %s: reading %s elements %s: %s", r->dir, name,
                 ckpt_range_text(first, count, range),
                 errno ? strerror(errno) : "the file ends early");
        return -1;
    }
    if (!ckpt_host_is_little_endian())
        ckpt_swap32(out, (size_t)count);
    return 0;
}

void ckpt_close(ckpt_reader *r)
{
    for (int a = 0; a < DTB_CKPT_ARRAY_COUNT; a++) {
        if (r->fd[a] >= 0)
            close(r->fd[a]);
        r->fd[a] = -1;
    }
}

/* ---- the latest checkpoint -------------------------------------------------------- */

/* The step of a name "step-<digits>" as ckpt_dir_of writes it (no sign, no
 * leading zero, fits an int64); -1 for any other name. */
static int64_t step_of_name(const char *name)
{
    if (strncmp(name, "step-", 5) != 0)
        return -1;
    const char *d = name + 5;
    if (*d == '\0' || (d[0] == '0' && d[1] != '\0'))
        return -1;
    int64_t step = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || step > (INT64_MAX - (*d - '0')) / 10)
            return -1;
        step = step * 10 + (*d - '0');
    }
    return step;
}

int ckpt_latest(const char *root, int64_t *step, char *dir, size_t dir_len, char *err,
                size_t err_len)
{
    char top[PATH_MAX], best[PATH_MAX] = "";
    int64_t best_step = -1;
    if (ckpt_trim_slashes(root, top, sizeof top)) {
        snprintf(err, err_len, "checkpoint root '%.200s': not a usable path", root);
        return -1;
    }
    DIR *d = opendir(top);
    if (!d) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, err_len, "cannot read checkpoint root %s: %s", top, strerror(errno));
        return -1;
    }
    for (;;) {
        errno = 0;
        const struct dirent *e = readdir(d);
        if (!e)
            break;
        const int64_t s = step_of_name(e->d_name);
        struct stat st;
        if (s > best_step && fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode)) {
            best_step = s;
            if (ckpt_join(best, sizeof best, top, e->d_name))
                best[0] = '\0'; /* reported below */
        }
        errno = 0;
    }
    const int saved = errno;
    closedir(d);
    if (saved != 0) {
        snprintf(err, err_len, "reading checkpoint root %s: %s", top, strerror(saved));
        return -1;
    }
    if (best_step < 0)
        return 1;
    if (strlen(best) >= dir_len || best[0] == '\0') {
        snprintf(err, err_len, "checkpoint %s/step-%" PRId64 ": path too long", top, best_step);
        return -1;
    }
    *step = best_step;
    memcpy(dir, best, strlen(best) + 1);
    return 0;
}
