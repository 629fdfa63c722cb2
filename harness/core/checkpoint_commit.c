/*
 * Checkpoints: ckpt_commit and ckpt_discard. Commit trusts nothing the
 * ranks did: it reads every rank's record of what it wrote, requires the
 * union of the records to cover every element of every array (else names
 * the first gap), requires the staging directory to hold nothing else,
 * hashes the array files (one thread each), writes manifest.json and only
 * then renames the directory to step-<S>, fsyncing each step.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint_files_internal.h"

/* ---- the coverage records ------------------------------------------------------ */

typedef struct rvec {
    ckpt_range *r;
    size_t n, cap;
} rvec;

static int rvec_push(rvec *v, ckpt_range r)
{
    if (v->n == v->cap) {
        const size_t cap = v->cap ? 2 * v->cap : 64;
        ckpt_range *p = realloc(v->r, cap * sizeof *p);
        if (!p)
            return -1;
        v->r = p;
        v->cap = cap;
    }
    v->r[v->n++] = r;
    return 0;
}

/* Exactly n space-separated decimal integers, nothing else. */
static int line_ints(const char *line, int64_t *out, int n)
{
    const char *s = line;
    for (int i = 0; i < n; i++) {
        if (i > 0 && *s++ != ' ')
            return -1;
        if (!(*s == '-' || (*s >= '0' && *s <= '9')))
            return -1;
        char *end;
        errno = 0;
        const long long v = strtoll(s, &end, 10);
        if (errno != 0 || end == s)
            return -1;
        out[i] = (int64_t)v;
        s = end;
    }
    return *s == '\0' ? 0 : -1;
}

/* The next '\n'-terminated line of the text at *cur, NUL-terminated in place. */
static char *next_line(char **cur)
{
    char *s = *cur, *nl = strchr(s, '\n');
    if (!nl)
        return NULL;
    *nl = '\0';
    *cur = nl + 1;
    return s;
}

typedef struct record_ctx {
    const ckpt_meta *meta;
    int rank;
    const int32_t *arrays;
    int na;
    rvec *cover; /* per array index */
} record_ctx;

/* One array's section of a record: "array n", then n ranges inside 0..n_params. */
static int parse_record_array(const record_ctx *c, int32_t a, char **cur)
{
    int64_t head[2], r[2];
    const char *line = next_line(cur);
    if (!line || line_ints(line, head, 2) || head[0] != a || head[1] < 0 ||
        head[1] > CKPT_MAX_RANGES)
        return -1;
    for (int64_t k = 0; k < head[1]; k++) {
        line = next_line(cur);
        if (!line || line_ints(line, r, 2) || r[0] < 0 || r[1] < 1 ||
            r[1] > c->meta->n_params - r[0] || rvec_push(&c->cover[a], (ckpt_range){r[0], r[1]}))
            return -1;
    }
    return 0;
}

static int parse_record(const record_ctx *c, char *text)
{
    char *cur = text;
    int64_t head[3];
    const char *line = next_line(&cur);
    if (!line || strcmp(line, CKPT_RECORD_MAGIC) != 0)
        return -1;
    line = next_line(&cur);
    if (!line || line_ints(line, head, 3) || head[0] != c->rank || head[1] != c->meta->optimizer ||
        head[2] != c->meta->n_params)
        return -1;
    for (int i = 0; i < c->na; i++)
        if (parse_record_array(c, c->arrays[i], &cur))
            return -1;
    line = next_line(&cur);
    return line && strcmp(line, "end") == 0 && *cur == '\0' ? 0 : -1;
}

static int read_record(const record_ctx *c, const char *stage, char *err, size_t err_len)
{
    char path[PATH_MAX], name[48];
    snprintf(name, sizeof name, ".written-%d", c->rank);
    if (ckpt_join(path, sizeof path, stage, name)) {
        snprintf(err, err_len, "%s/%s: path too long", stage, name);
        return -1;
    }
    size_t len = 0;
    char *text = ckpt_slurp(
        path, (size_t)CKPT_MAX_RANGES * DTB_CKPT_ARRAY_COUNT * CKPT_RECORD_LINE_MAX + 4096, &len);
    if (!text) {
        if (errno == ENOENT)
            snprintf(err, err_len, "rank %d left no record of what it saved", c->rank);
        else
            snprintf(err, err_len, "cannot read rank %d's record %s: %s", c->rank, path,
                     strerror(errno));
        return -1;
    }
    const int rc = strlen(text) == len ? parse_record(c, text) : -1;
    free(text);
    if (rc)
        snprintf(err, err_len, "rank %d's record %s is damaged or not of this checkpoint", c->rank,
                 path);
    return rc;
}

static int by_first(const void *x, const void *y)
{
    const ckpt_range *a = x, *b = y;
    return (a->first > b->first) - (a->first < b->first);
}

typedef struct gaps {
    int64_t count, missing; /* gaps and elements in them, all arrays */
    int32_t array;          /* the first gap's */
    int64_t first, n;
} gaps;

static void gap_found(gaps *g, int32_t a, int64_t first, int64_t n)
{
    if (g->count++ == 0) {
        g->array = a;
        g->first = first;
        g->n = n;
    }
    g->missing += n;
}

/* The elements of 0..n_params outside the union of v's ranges. */
static void find_gaps(rvec *v, int32_t a, int64_t n_params, gaps *g)
{
    qsort(v->r, v->n, sizeof *v->r, by_first);
    int64_t covered = 0; /* 0 .. covered-1 are in some range seen so far */
    for (size_t i = 0; i < v->n; i++) {
        if (v->r[i].first > covered)
            gap_found(g, a, covered, v->r[i].first - covered);
        const int64_t end = v->r[i].first + v->r[i].count;
        if (end > covered)
            covered = end;
    }
    if (covered < n_params)
        gap_found(g, a, covered, n_params - covered);
}

static int check_coverage(const char *stage, const ckpt_meta *meta, int world, char *err,
                          size_t err_len)
{
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    rvec cover[DTB_CKPT_ARRAY_COUNT] = {{0}};
    record_ctx c = {meta, 0, arrays, ckpt_arrays_of(meta->optimizer, arrays), cover};
    int rc = 0;
    for (c.rank = 0; c.rank < world && rc == 0; c.rank++)
        rc = read_record(&c, stage, err, err_len);
    gaps g = {0};
    for (int i = 0; i < c.na && rc == 0; i++)
        find_gaps(&cover[arrays[i]], arrays[i], meta->n_params, &g);
    if (rc == 0 && g.count > 0) {
        char range[48];
        const int w = snprintf(err, err_len, "no rank saved %s elements %s (of %" PRId64 ")",
                               ckpt_array_name(g.array), ckpt_range_text(g.first, g.n, range),
                               meta->n_params);
        if (g.count > 1 && w > 0 && (size_t)w < err_len)
            snprintf(err + w, err_len - (size_t)w,
                     "; %" PRId64 " elements missing in all in %" PRId64 " gaps", g.missing,
                     g.count);
        rc = -1;
    }
    for (int a = 0; a < DTB_CKPT_ARRAY_COUNT; a++)
        free(cover[a].r);
    return rc;
}

/* ---- the staging directory, the manifest, the rename ------------------------- */

/* 1 when `name` is ".written-<r>" for a rank r of the world (canonical decimal). */
static int is_record_name(const char *name, int world)
{
    if (strncmp(name, ".written-", 9) != 0)
        return 0;
    const char *d = name + 9;
    if (!(*d >= '0' && *d <= '9') || (d[0] == '0' && d[1] != '\0') || strlen(d) > 9)
        return 0;
    long r = 0;
    for (; *d; d++) {
        if (!(*d >= '0' && *d <= '9'))
            return 0;
        r = r * 10 + (*d - '0');
    }
    return r < world;
}

static int is_array_file(const char *name, const int32_t *arrays, int na)
{
    for (int i = 0; i < na; i++) {
        const size_t n = strlen(ckpt_array_name(arrays[i]));
        if (strncmp(name, ckpt_array_name(arrays[i]), n) == 0 && strcmp(name + n, ".npy") == 0)
            return 1;
    }
    return 0;
}

/* The staging directory holds the arrays and the records, nothing else. */
static int check_entries(const char *stage, const ckpt_meta *meta, int world, char *err,
                         size_t err_len)
{
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    const int na = ckpt_arrays_of(meta->optimizer, arrays);
    DIR *d = opendir(stage);
    if (!d) {
        snprintf(err, err_len, "cannot read staging directory %s: %s", stage, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        const struct dirent *e = readdir(d);
        if (!e) {
            if (errno != 0) {
                snprintf(err, err_len, "reading staging directory %s: %s", stage, strerror(errno));
                rc = -1;
            }
            break;
        }
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            !is_array_file(e->d_name, arrays, na) && !is_record_name(e->d_name, world)) {
            snprintf(err, err_len, "staging directory %s holds an unexpected file %s", stage,
                     e->d_name);
            rc = -1;
            break;
        }
    }
    closedir(d);
    return rc;
}

/* What each array's job needs: its file, n, and where its sha256 goes. */
typedef struct hash_ctx {
    const char *stage;
    const int32_t *arrays;
    int64_t n;
    char (*sums)[SHA256_HEX_LEN];
} hash_ctx;

/* The i-th array's file: size and header checked, then its sha256. */
static int hash_array(void *arg, int i, char *err, size_t err_len)
{
    const hash_ctx *c = arg;
    const int32_t a = c->arrays[i];
    char path[PATH_MAX], file[40], why[200];
    size_t hlen;
    snprintf(file, sizeof file, "%s.npy", ckpt_array_name(a));
    if (ckpt_join(path, sizeof path, c->stage, file)) {
        snprintf(err, err_len, "%s/%s: path too long", c->stage, file);
        return -1;
    }
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = ckpt_check_array_file(fd, c->n, &hlen, why, sizeof why);
    if (rc)
        snprintf(err, err_len, "%s %s", path, why);
    else
        rc = sha256_fd(fd, path, c->sums[a], err, err_len);
    if (close(fd) != 0 && rc == 0) {
        snprintf(err, err_len, "closing %s: %s", path, strerror(errno));
        rc = -1;
    }
    return rc;
}

/* The sha256 of each array file into sums (indexed by array). */
static int hash_arrays(const char *stage, const ckpt_meta *meta, char sums[][SHA256_HEX_LEN],
                       char *err, size_t err_len)
{
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    const int na = ckpt_arrays_of(meta->optimizer, arrays);
    hash_ctx c = {stage, arrays, meta->n_params, sums};
    return ckpt_each_array(na, hash_array, &c, err, err_len);
}

static int remove_records(const char *stage, int world, char *err, size_t err_len)
{
    for (int r = 0; r < world; r++) {
        char path[PATH_MAX], name[48];
        snprintf(name, sizeof name, ".written-%d", r);
        if (ckpt_join(path, sizeof path, stage, name) || unlink(path) != 0) {
            snprintf(err, err_len, "cannot remove %s/%s: %s", stage, name, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* The staging directory onto <root>/step-<S>, refused when that exists. */
static int publish(const char *stage, const char *root, int64_t step, char *final_dir,
                   size_t final_len, char *err, size_t err_len)
{
    char top[PATH_MAX], final[PATH_MAX];
    if (ckpt_trim_slashes(root, top, sizeof top) || ckpt_dir_of(top, step, final, sizeof final) ||
        strlen(final) >= final_len) {
        snprintf(err, err_len, "checkpoint root '%.200s': path too long", root);
        return -1;
    }
    if (ckpt_refuse_existing(final, err, err_len))
        return -1;
    if (rename(stage, final) != 0) {
        snprintf(err, err_len, "renaming %s to %s: %s", stage, final, strerror(errno));
        return -1;
    }
    memcpy(final_dir, final, strlen(final) + 1);
    return ckpt_fsync_dir(top, err, err_len);
}

int ckpt_commit(const char *stage_dir, const char *root, const ckpt_meta *meta, int world,
                char *final_dir, size_t final_len, char *err, size_t err_len)
{
    char stage[PATH_MAX], sums[DTB_CKPT_ARRAY_COUNT][SHA256_HEX_LEN];
    if (ckpt_meta_ok(meta, err, err_len))
        return -1;
    if (world < 1) {
        snprintf(err, err_len, "checkpoint commit: a world of %d ranks", world);
        return -1;
    }
    if (ckpt_trim_slashes(stage_dir, stage, sizeof stage)) {
        snprintf(err, err_len, "staging directory '%.200s' is not a usable path", stage_dir);
        return -1;
    }
    if (check_coverage(stage, meta, world, err, err_len) ||
        check_entries(stage, meta, world, err, err_len) ||
        hash_arrays(stage, meta, sums, err, err_len) ||
        ckpt_write_manifest(stage, meta, sums, err, err_len) ||
        remove_records(stage, world, err, err_len) || ckpt_fsync_dir(stage, err, err_len))
        return -1;
    return publish(stage, root, meta->step, final_dir, final_len, err, err_len);
}

/* 1 when the last component of path is a staging name ".step-<S>.partial-<pid>". */
static int is_stage_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    return strncmp(name, ".step-", 6) == 0 && strstr(name, ".partial-") != NULL;
}

void ckpt_discard(const char *stage_dir)
{
    char stage[PATH_MAX];
    /* Only what ckpt_prepare made: never a directory of another name. */
    if (ckpt_trim_slashes(stage_dir, stage, sizeof stage) || !is_stage_name(stage))
        return;
    DIR *d = opendir(stage);
    if (!d)
        return;
    const int dfd = dirfd(d);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlinkat(dfd, e->d_name, 0);
    closedir(d);
    rmdir(stage);
}
