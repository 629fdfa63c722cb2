/*
 * Checkpoints: the writing side of checkpoint_files.h. Rank 0 prepares the
 * staging directory (every array file at its full size, a sparse file
 * after its header); each rank's writer stores its elements with pwrite at
 * their offsets, keeps the ranges it wrote merged, and at close leaves
 * them in its record .written-<rank> for ckpt_commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_files_internal.h"

/* Elements per conversion on a big-endian host. */
#define SWAP_CHUNK 16384

/* ---- prepare ---------------------------------------------------------------- */

/* root itself (one level), or -1 when it cannot be made or is no directory. */
static int make_root(const char *root, char *err, size_t err_len)
{
    struct stat st;
    if (mkdir(root, 0777) == 0)
        return 0;
    if (errno != EEXIST) {
        snprintf(err, err_len, "cannot create checkpoint root %s: %s", root, strerror(errno));
        return -1;
    }
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "checkpoint root %s is not a directory", root);
        return -1;
    }
    return 0;
}

/* A new array file: the header, then a hole up to H + 4 n bytes. */
static int create_array(const char *stage, int32_t array, int64_t n, char *err, size_t err_len)
{
    char path[PATH_MAX], file[40], header[NPY_HEADER_CAP];
    size_t hlen;
    snprintf(file, sizeof file, "%s.npy", ckpt_array_name(array));
    if (ckpt_join(path, sizeof path, stage, file) || ckpt_array_header(n, header, &hlen)) {
        snprintf(err, err_len, "%s/%s: path too long", stage, file);
        return -1;
    }
    const int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        snprintf(err, err_len, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    const char *what = ckpt_pwrite_all(fd, header, hlen, 0)            ? "writing the header of"
                       : ftruncate(fd, (off_t)((int64_t)hlen + 4 * n)) ? "sizing"
                                                                       : NULL;
    if ((what = ckpt_close_after(fd, what)) != NULL) {
        snprintf(err, err_len, "%s %s: %s", what, path, strerror(errno));
        return -1;
    }
    return 0;
}

int ckpt_prepare(const char *root, const ckpt_meta *meta, char *stage_dir, size_t stage_len,
                 char *err, size_t err_len)
{
    char top[PATH_MAX], final[PATH_MAX], stage[PATH_MAX], name[64];
    if (ckpt_meta_ok(meta, err, err_len))
        return -1;
    snprintf(name, sizeof name, ".step-%" PRId64 ".partial-%ld", meta->step, (long)getpid());
    if (ckpt_trim_slashes(root, top, sizeof top) ||
        ckpt_dir_of(top, meta->step, final, sizeof final) ||
        ckpt_join(stage, sizeof stage, top, name) || strlen(stage) >= stage_len) {
        snprintf(err, err_len, "checkpoint root '%.200s': path too long", root);
        return -1;
    }
    if (make_root(top, err, err_len) || ckpt_refuse_existing(final, err, err_len))
        return -1;
    if (mkdir(stage, 0777) != 0) {
        snprintf(err, err_len, "cannot create staging directory %s: %s", stage, strerror(errno));
        return -1;
    }
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    const int na = ckpt_arrays_of(meta->optimizer, arrays);
    for (int i = 0; i < na; i++)
        if (create_array(stage, arrays[i], meta->n_params, err, err_len)) {
            ckpt_discard(stage);
            return -1;
        }
    memcpy(stage_dir, stage, strlen(stage) + 1);
    return 0;
}

/* ---- writers ------------------------------------------------------------------- */

static void writer_reset(ckpt_writer *w)
{
    for (int a = 0; a < DTB_CKPT_ARRAY_COUNT; a++) {
        w->fd[a] = -1;
        w->header_len[a] = 0;
        w->ranges[a] = NULL;
        w->n_ranges[a] = 0;
    }
}

/* Opens array a's file and checks that its size is that of n elements. */
static int writer_open_array(ckpt_writer *w, int32_t a, char *err, size_t err_len)
{
    char path[PATH_MAX], file[40], header[NPY_HEADER_CAP];
    snprintf(file, sizeof file, "%s.npy", ckpt_array_name(a));
    if (ckpt_join(path, sizeof path, w->dir, file) ||
        ckpt_array_header(w->n_params, header, &w->header_len[a])) {
        snprintf(err, err_len, "%s/%s: path too long", w->dir, file);
        return -1;
    }
    if ((w->fd[a] = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
        snprintf(err, err_len, "rank %d: cannot open %s: %s", w->rank, path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(w->fd[a], &st) != 0) {
        snprintf(err, err_len, "rank %d: stat of %s: %s", w->rank, path, strerror(errno));
        return -1;
    }
    const int64_t want = (int64_t)w->header_len[a] + 4 * w->n_params;
    if ((int64_t)st.st_size != want) {
        snprintf(err, err_len,
                 "rank %d: %s is %lld bytes, not %" PRId64 " (prepared for another n_params?)",
                 w->rank, path, (long long)st.st_size, want);
        return -1;
    }
    if (!(w->ranges[a] = malloc(CKPT_MAX_RANGES * sizeof *w->ranges[a]))) {
        snprintf(err, err_len, "rank %d: out of memory", w->rank);
        return -1;
    }
    return 0;
}

int ckpt_writer_open(ckpt_writer *w, const char *stage_dir, int32_t optimizer, int64_t n_params,
                     int rank, char *err, size_t err_len)
{
    writer_reset(w);
    w->rank = rank;
    w->optimizer = optimizer;
    w->n_params = n_params;
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    const int na = ckpt_arrays_of(optimizer, arrays);
    if (ckpt_trim_slashes(stage_dir, w->dir, sizeof w->dir)) {
        snprintf(err, err_len, "rank %d: staging directory '%.200s' is not a usable path", rank,
                 stage_dir);
        return -1;
    }
    if (na == 0 || rank < 0 || n_params < 1 || n_params > CKPT_MAX_N) {
        snprintf(err, err_len, "rank %d: writer for optimizer %d, %" PRId64 " elements: refused",
                 rank, optimizer, n_params);
        return -1;
    }
    for (int i = 0; i < na; i++)
        if (writer_open_array(w, arrays[i], err, err_len)) {
            ckpt_writer_abandon(w);
            return -1;
        }
    return 0;
}

/* The ranges of list[0 .. n) that [first, end) overlaps or touches:
 * [*lo, *hi). Invariant of the list: sorted, and each range ends strictly
 * before the next begins (r[i].first + r[i].count < r[i+1].first). */
static void ranges_touching(const ckpt_range *r, int n, int64_t first, int64_t end, int *lo,
                            int *hi)
{
    int a = 0, b = n; /* the first range with r.first + r.count >= first: ends ascend */
    while (a < b) {
        const int mid = a + (b - a) / 2;
        if (r[mid].first + r[mid].count < first)
            a = mid + 1;
        else
            b = mid;
    }
    *lo = a;
    while (a < n && r[a].first <= end)
        a++;
    *hi = a;
}

/* Joins [first, first + count) into the list; the invariant holds after. */
static void ranges_insert(ckpt_range *r, int *n, int lo, int hi, int64_t first, int64_t count)
{
    if (lo == hi) {
        memmove(r + lo + 1, r + lo, (size_t)(*n - lo) * sizeof *r);
        r[lo] = (ckpt_range){first, count};
        (*n)++;
        return;
    }
    const int64_t start = r[lo].first < first ? r[lo].first : first;
    const int64_t end_old = r[hi - 1].first + r[hi - 1].count, end_new = first + count;
    r[lo] = (ckpt_range){start, (end_old > end_new ? end_old : end_new) - start};
    memmove(r + lo + 1, r + hi, (size_t)(*n - hi) * sizeof *r);
    *n -= hi - lo - 1;
}

/* values as little-endian floats at element `first` of array a's file. */
static int put_values(ckpt_writer *w, int32_t a, int64_t first, int64_t count, const float *values)
{
    const int64_t at = (int64_t)w->header_len[a] + 4 * first;
    if (ckpt_host_is_little_endian())
        return ckpt_pwrite_all(w->fd[a], values, (size_t)count * 4, at);
    float buf[SWAP_CHUNK];
    for (int64_t done = 0; done < count;) {
        const size_t k = (size_t)(count - done < SWAP_CHUNK ? count - done : SWAP_CHUNK);
        memcpy(buf, values + done, k * 4);
        ckpt_swap32(buf, k);
        if (ckpt_pwrite_all(w->fd[a], buf, k * 4, at + 4 * done))
            return -1;
        done += (int64_t)k;
    }
    return 0;
}

/* Refuses what ckpt_writer_put must refuse; 0 for a valid call. */
static int put_refused(const ckpt_writer *w, int32_t array, int64_t first, int64_t count,
                       const float *values, char *err, size_t err_len)
{
    const char *name = ckpt_array_name(array);
    char range[48];
    if (!name)
        snprintf(err, err_len, "rank %d: there is no checkpoint array %d", w->rank, (int)array);
    else if (w->fd[array] < 0)
        snprintf(err, err_len, "rank %d: %s is not an array of this writer's checkpoint (%s)",
                 w->rank, name, w->optimizer == DTB_OPT_ADAMW ? "adamw" : "sgd");
    else if (count < 0)
        snprintf(err, err_len, "rank %d: %s: a negative count (%" PRId64 ") at element %" PRId64,
                 w->rank, name, count, first);
    else if (count > 0 && (first < 0 || first > w->n_params || count > w->n_params - first))
        snprintf(err, err_len, "rank %d: %s elements %s are outside 0..%" PRId64, w->rank, name,
                 first < 0 || count - 1 <= INT64_MAX - first ? ckpt_range_text(first, count, range)
                                                             : "(overflow)",
                 w->n_params - 1);
    else if (count > 0 && values == NULL)
        snprintf(err, err_len, "rank %d: %s elements %s: no values", w->rank, name,
                 ckpt_range_text(first, count, range));
    else
        return 0;
    return -1;
}

int ckpt_writer_put(ckpt_writer *w, int32_t array, int64_t first, int64_t count,
                    const float *values, char *err, size_t err_len)
{
    if (put_refused(w, array, first, count, values, err, err_len))
        return -1;
    if (count == 0)
        return 0;
    const char *name = ckpt_array_name(array);
    char range[48];
    int lo, hi;
    ranges_touching(w->ranges[array], w->n_ranges[array], first, first + count, &lo, &hi);
    if (lo == hi && w->n_ranges[array] == CKPT_MAX_RANGES) {
        snprintf(err, err_len,
                 "rank %d: %s elements %s would be its %d-th disjoint range (at most %d)", w->rank,
                 name, ckpt_range_text(first, count, range), CKPT_MAX_RANGES + 1, CKPT_MAX_RANGES);
        return -1;
    }
    if (put_values(w, array, first, count, values)) {
        snprintf(err, err_len, "rank %d: writing %s elements %s into %s/%s.npy: %s", w->rank, name,
                 ckpt_range_text(first, count, range), w->dir, name, strerror(errno));
        return -1;
    }
    ranges_insert(w->ranges[array], &w->n_ranges[array], lo, hi, first, count);
    return 0;
}

/* The record's text, as CKPT_RECORD_MAGIC's comment lays it out. */
static int record_text(const ckpt_writer *w, ckpt_sbuf *b)
{
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    const int na = ckpt_arrays_of(w->optimizer, arrays);
    ckpt_sb_printf(b, "%s\n%d %d %" PRId64 "\n", CKPT_RECORD_MAGIC, w->rank, w->optimizer,
                   w->n_params);
    for (int i = 0; i < na; i++) {
        const int32_t a = arrays[i];
        ckpt_sb_printf(b, "%d %d\n", a, w->n_ranges[a]);
        for (int k = 0; k < w->n_ranges[a]; k++)
            ckpt_sb_printf(b, "%" PRId64 " %" PRId64 "\n", w->ranges[a][k].first,
                           w->ranges[a][k].count);
    }
    ckpt_sb_printf(b, "end\n");
    return b->failed ? -1 : 0;
}

static int write_record(const ckpt_writer *w, char *err, size_t err_len)
{
    char path[PATH_MAX], tmp[PATH_MAX], name[48], tmp_name[48];
    snprintf(name, sizeof name, ".written-%d", w->rank);
    snprintf(tmp_name, sizeof tmp_name, ".written-%d.tmp", w->rank);
    if (ckpt_join(path, sizeof path, w->dir, name) ||
        ckpt_join(tmp, sizeof tmp, w->dir, tmp_name)) {
        snprintf(err, err_len, "rank %d: %s/%s: path too long", w->rank, w->dir, tmp_name);
        return -1;
    }
    ckpt_sbuf b = {0};
    int rc = record_text(w, &b);
    if (rc)
        snprintf(err, err_len, "rank %d: out of memory for %s", w->rank, path);
    else
        rc = ckpt_write_file_atomic(tmp, path, b.p, b.len, err, err_len);
    free(b.p);
    return rc;
}

int ckpt_writer_close(ckpt_writer *w, char *err, size_t err_len)
{
    int rc = 0;
    for (int a = 0; a < DTB_CKPT_ARRAY_COUNT; a++) {
        if (w->fd[a] < 0)
            continue;
        const char *what = ckpt_close_after(w->fd[a], fdatasync(w->fd[a]) ? "fdatasync of" : NULL);
        w->fd[a] = -1;
        if (what && rc == 0) {
            snprintf(err, err_len, "rank %d: %s %s/%s.npy: %s", w->rank, what, w->dir,
                     ckpt_array_name(a), strerror(errno));
            rc = -1;
        }
    }
    if (rc == 0)
        rc = write_record(w, err, err_len);
    ckpt_writer_abandon(w);
    return rc;
}

void ckpt_writer_abandon(ckpt_writer *w)
{
    for (int a = 0; a < DTB_CKPT_ARRAY_COUNT; a++) {
        if (w->fd[a] >= 0)
            close(w->fd[a]);
        free(w->ranges[a]);
    }
    writer_reset(w);
}
