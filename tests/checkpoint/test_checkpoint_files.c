/*
 * core/checkpoint_files.h: worlds of 1 to 4 simulated ranks (in this
 * process, or forked) save random contents (fixed seeds) for SGD and AdamW
 * in disjoint and overlapping ranges, written in pieces in random order;
 * the committed checkpoint reads back bit for bit with its metadata. Then
 * the refusals: gaps in the coverage (exact text), a missing record, a
 * torn or modified file or manifest, an existing step, bad puts;
 * ckpt_open_unverified (all but the sha256 checked); with several corrupt
 * files, the first in array order reported whatever the hashing threads'
 * timing; and ckpt_latest over committed, staging and look-alike
 * directories.
 *
 * Usage: checkpoint_unit_files (works in a fresh directory under $TMPDIR)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/check.h"
#include "checkpoint_files.h"
#include "json_value.h"

static uint64_t rng = 20260207;

static uint64_t next_u64(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int64_t below(int64_t n)
{
    return n > 0 ? (int64_t)(next_u64() % (uint64_t)n) : 0;
}

/* Random bit patterns of finite, non-zero floats of every magnitude, with a
 * NaN payload, infinities, -0 and subnormals now and then. */
static float random_float(void)
{
    static const uint32_t special[] = {0x7fc12345u, 0xff800000u, 0x7f800000u,
                                       0x80000000u, 0x00000001u, 0x807fffffu};
    uint32_t bits;
    if (below(100) == 0)
        bits = special[below(6)];
    else
        do
            bits = (uint32_t)next_u64();
        while ((bits & 0x7f800000u) == 0x7f800000u || (bits & 0x7fffffffu) == 0);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static char root[PATH_MAX];

/* Removes path and, for a directory, what it holds. */
static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        const struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            char sub[PATH_MAX + 256];
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else
        unlink(path);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* ---- fixtures --------------------------------------------------------------- */

/* An MLP d0 -> d1 -> d2 (W0, b0, W1, b1), awkward names and numbers. */
static void make_meta(ckpt_meta *m, int32_t optimizer, int64_t step, int64_t d0, int64_t d1,
                      int64_t d2)
{
    memset(m, 0, sizeof *m);
    m->step = step;
    snprintf(m->model, sizeof m->model, "mlp-\"q\"\\\xc3\xa9\t%d", (int)below(1000));
    m->model_kind = DTB_MODEL_MLP;
    const int64_t shapes[4][2] = {{d1, d0}, {d1, 1}, {d2, d1}, {d2, 1}};
    static const char *const names[4] = {"W0", "b0", "W1", "b1"};
    int64_t at = 0;
    for (int i = 0; i < 4; i++) {
        dtb_tensor_desc *t = &m->tensors[i];
        snprintf(t->name, sizeof t->name, "%s", names[i]);
        t->ndim = i % 2 ? 1 : 2;
        t->shape[0] = shapes[i][0];
        t->shape[1] = i % 2 ? 0 : shapes[i][1];
        t->numel = shapes[i][0] * shapes[i][1];
        t->offset = at;
        t->layer = i / 2;
        t->flags = (i % 2 ? 0u : DTB_TENSOR_DECAY) | (i == 2 ? DTB_TENSOR_TIED : 0u);
        at += t->numel;
    }
    m->n_tensors = 4;
    m->n_params = at;
    m->optimizer = optimizer;
    m->lr = 1e-3 * (1 + (double)below(1000) / 7);
    m->momentum = 0.9;
    m->beta1 = 0.9;
    m->beta2 = 0.999;
    m->eps = 1e-8;
    m->weight_decay = 0.1 / 3;
    m->clip_norm = 1.0 / 3 + (double)below(5);
    m->precision = below(2) ? DTB_PREC_FP32 : DTB_PREC_BF16_MIXED;
    m->global_batch = 30;
    m->micro_batches = 3;
    m->seed = next_u64() | 1ull << 63;
    snprintf(m->writer_impl, sizeof m->writer_impl, "ref-zero%d", (int)below(4));
    m->writer_stage = DTB_STAGE_ZERO2;
    m->writer_world = 4;
}

static int same_tensor(const dtb_tensor_desc *a, const dtb_tensor_desc *b)
{
    if (strcmp(a->name, b->name) || a->ndim != b->ndim || a->numel != b->numel ||
        a->offset != b->offset || a->layer != b->layer || a->flags != b->flags)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

static int same_meta(const ckpt_meta *a, const ckpt_meta *b)
{
    const double *da[7] = {&a->lr,  &a->momentum,     &a->beta1,    &a->beta2,
                           &a->eps, &a->weight_decay, &a->clip_norm};
    const double *db[7] = {&b->lr,  &b->momentum,     &b->beta1,    &b->beta2,
                           &b->eps, &b->weight_decay, &b->clip_norm};
    for (int i = 0; i < 7; i++)
        if (memcmp(da[i], db[i], sizeof(double)) != 0)
            return 0;
    if (a->step != b->step || strcmp(a->model, b->model) || a->model_kind != b->model_kind ||
        a->n_params != b->n_params || a->n_tensors != b->n_tensors ||
        a->optimizer != b->optimizer || a->precision != b->precision ||
        a->global_batch != b->global_batch || a->micro_batches != b->micro_batches ||
        a->seed != b->seed || strcmp(a->writer_impl, b->writer_impl) ||
        a->writer_stage != b->writer_stage || a->writer_world != b->writer_world)
        return 0;
    for (int i = 0; i < a->n_tensors; i++)
        if (!same_tensor(&a->tensors[i], &b->tensors[i]))
            return 0;
    return 1;
}

/* What a world saves: per array, the values every rank agrees on. */
typedef struct contents {
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    int na;
    int64_t n;
    float *values[DTB_CKPT_ARRAY_COUNT];
} contents;

static void contents_make(contents *c, const ckpt_meta *m)
{
    memset(c, 0, sizeof *c);
    c->na = ckpt_arrays_of(m->optimizer, c->arrays);
    c->n = m->n_params;
    for (int i = 0; i < c->na; i++) {
        float *v = malloc((size_t)c->n * sizeof *v);
        for (int64_t k = 0; v && k < c->n; k++)
            v[k] = random_float();
        c->values[c->arrays[i]] = v;
    }
}

static void contents_free(contents *c)
{
    for (int a = 0; a < DTB_CKPT_ARRAY_COUNT; a++)
        free(c->values[a]);
}

/* Puts [first, first + count) of array a in random pieces, in random order. */
static int put_pieces(ckpt_writer *w, const contents *c, int32_t a, int64_t first, int64_t count)
{
    enum { MAX_PIECES = 64 };
    int64_t cut[MAX_PIECES + 1];
    int pieces = 1 + (int)below(count < MAX_PIECES ? count : MAX_PIECES);
    cut[0] = first;
    cut[pieces] = first + count;
    for (int i = 1; i < pieces; i++) /* sorted cuts: piece i is [cut[i], cut[i+1]) */
        cut[i] = first + count * i / pieces + (below(3) - 1) * (count > 4 * pieces);
    int order[MAX_PIECES];
    for (int i = 0; i < pieces; i++)
        order[i] = i;
    for (int i = pieces - 1; i > 0; i--) {
        const int j = (int)below(i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    char err[256];
    for (int i = 0; i < pieces; i++) {
        const int64_t f = cut[order[i]], k = cut[order[i] + 1] - f;
        if (ckpt_writer_put(w, a, f, k, c->values[a] + f, err, sizeof err)) {
            fprintf(stderr, "put: %s\n", err);
            return -1;
        }
    }
    return 0;
}

/* Rank r's share: its shard of every array, widened into its neighbours'
 * when overlapping, plus one random range again. */
static int write_rank(const char *stage, const contents *c, int32_t optimizer, int rank, int world,
                      int overlap)
{
    ckpt_writer w;
    char err[256];
    if (ckpt_writer_open(&w, stage, optimizer, c->n, rank, err, sizeof err)) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    for (int i = 0; i < c->na; i++) {
        int64_t lo = c->n * rank / world, hi = c->n * (rank + 1) / world;
        if (overlap) {
            lo -= below((hi - lo) / 2 + 2);
            hi += below((hi - lo) / 2 + 2);
            lo = lo < 0 ? 0 : lo;
            hi = hi > c->n ? c->n : hi;
        }
        const int64_t again = below(c->n), again_n = below(c->n - again + 1);
        if ((hi > lo && put_pieces(&w, c, c->arrays[i], lo, hi - lo)) ||
            (overlap && put_pieces(&w, c, c->arrays[i], again, again_n))) {
            ckpt_writer_abandon(&w);
            return -1;
        }
    }
    if (ckpt_writer_close(&w, err, sizeof err)) {
        fprintf(stderr, "close: %s\n", err);
        return -1;
    }
    return 0;
}

/* Every rank of the world, one after the other or each in a child process. */
static int write_world(const char *stage, const contents *c, int32_t optimizer, int world,
                       int overlap, int forked)
{
    if (!forked) {
        for (int r = 0; r < world; r++)
            if (write_rank(stage, c, optimizer, r, world, overlap))
                return -1;
        return 0;
    }
    pid_t pids[8];
    for (int r = 0; r < world; r++) {
        fflush(NULL);
        pids[r] = fork();
        if (pids[r] == 0)
            _exit(write_rank(stage, c, optimizer, r, world, overlap) ? 1 : 0);
    }
    int failed = 0;
    for (int r = 0; r < world; r++) {
        int status = 0;
        failed |= pids[r] < 0 || waitpid(pids[r], &status, 0) != pids[r] || !WIFEXITED(status) ||
                  WEXITSTATUS(status) != 0;
    }
    return failed ? -1 : 0;
}

/* Prepare, the world's writes, commit; the committed path into dir. */
static int save(const char *where, const ckpt_meta *m, const contents *c, int world, int overlap,
                int forked, char *dir, size_t dir_len)
{
    char stage[PATH_MAX], err[512];
    if (ckpt_prepare(where, m, stage, sizeof stage, err, sizeof err)) {
        fprintf(stderr, "prepare: %s\n", err);
        return -1;
    }
    if (write_world(stage, c, m->optimizer, world, overlap, forked) ||
        ckpt_commit(stage, where, m, world, dir, dir_len, err, sizeof err)) {
        fprintf(stderr, "save: %s\n", err);
        ckpt_discard(stage);
        return -1;
    }
    return 0;
}

/* The directory holds exactly manifest.json and the optimizer's arrays. */
static int holds_exactly(const char *dir, const contents *c)
{
    DIR *d = opendir(dir);
    int entries = 0, ok = d != NULL;
    const struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int known = strcmp(e->d_name, "manifest.json") == 0;
        for (int i = 0; i < c->na; i++) {
            char file[64];
            snprintf(file, sizeof file, "%s.npy", ckpt_array_name(c->arrays[i]));
            known |= strcmp(e->d_name, file) == 0;
        }
        ok &= known;
        entries++;
    }
    if (d)
        closedir(d);
    return ok && entries == c->na + 1;
}

/* Opens dir and reads everything back: the metadata and each array whole,
 * then in random ranges, bit for bit. */
static void check_reads_back(const char *dir, const ckpt_meta *m, const contents *c)
{
    ckpt_reader r;
    char err[512] = "";
    CHECK(ckpt_open(&r, dir, err, sizeof err) == 0);
    if (err[0]) {
        fprintf(stderr, "open: %s\n", err);
        return;
    }
    CHECK(same_meta(&r.meta, m));
    CHECK(holds_exactly(dir, c));
    float *got = malloc((size_t)c->n * sizeof *got);
    for (int i = 0; got && i < c->na; i++) {
        const int32_t a = c->arrays[i];
        memset(got, 0, (size_t)c->n * sizeof *got);
        CHECK(ckpt_read(&r, a, 0, c->n, got, err, sizeof err) == 0);
        CHECK(memcmp(got, c->values[a], (size_t)c->n * sizeof *got) == 0);
        for (int k = 0; k < 20; k++) {
            const int64_t f = below(c->n), n = below(c->n - f + 1);
            memset(got, 0, (size_t)c->n * sizeof *got);
            CHECK(ckpt_read(&r, a, f, n, got, err, sizeof err) == 0);
            CHECK(memcmp(got, c->values[a] + f, (size_t)n * sizeof *got) == 0);
        }
    }
    free(got);
    ckpt_close(&r);
    ckpt_close(&r); /* safe twice */
}

/* ---- saves that succeed ---------------------------------------------------- */

static void test_round_trips(void)
{
    int step = 1;
    for (int32_t opt = DTB_OPT_SGD_MOMENTUM; opt <= DTB_OPT_ADAMW; opt++)
        for (int world = 1; world <= 4; world++)
            for (int overlap = 0; overlap <= 1; overlap++) {
                ckpt_meta m;
                contents c;
                char dir[PATH_MAX], want[PATH_MAX];
                make_meta(&m, opt, step++, 3 + below(40), 1 + below(60), 2 + below(12));
                contents_make(&c, &m);
                const int forked = world >= 3 && overlap == (world == 3);
                CHECK(save(root, &m, &c, world, overlap, forked, dir, sizeof dir) == 0);
                CHECK(ckpt_dir_of(root, m.step, want, sizeof want) == 0);
                CHECK(strcmp(dir, want) == 0);
                check_reads_back(dir, &m, &c);
                contents_free(&c);
            }
}

/* ckpt_read refuses an array the optimizer has not and a range outside. */
static void test_read_refusals(const char *dir, const ckpt_meta *m)
{
    ckpt_reader r;
    char err[512] = "", want[600];
    float x[4];
    CHECK(ckpt_open(&r, dir, err, sizeof err) == 0);
    CHECK(ckpt_read(&r, DTB_CKPT_MOMENTUM, 0, 1, x, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "momentum_buffer");
    CHECK(ckpt_read(&r, DTB_CKPT_EXP_AVG, m->n_params - 2, 4, x, err, sizeof err) == -1);
    snprintf(want, sizeof want, "outside 0..%" PRId64, m->n_params - 1);
    CHECK_CONTAINS(err, want);
    CHECK(ckpt_read(&r, DTB_CKPT_EXP_AVG, 0, -1, x, err, sizeof err) == -1);
    CHECK(ckpt_read(&r, DTB_CKPT_EXP_AVG, m->n_params, 0, x, err, sizeof err) == 0);
    ckpt_close(&r);
}

/* ---- a torn or modified checkpoint ------------------------------------------- */

/* ckpt_open or ckpt_open_unverified. */
typedef int (*opener)(ckpt_reader *r, const char *dir, char *err, size_t err_len);

/* open_with refuses dir with `want` (the whole message when exact), one line. */
static void expect_refused_by(opener open_with, const char *dir, const char *want, int exact)
{
    ckpt_reader r;
    char err[600] = "";
    const int rc = open_with(&r, dir, err, sizeof err);
    CHECK(rc == -1);
    if (rc == 0)
        ckpt_close(&r);
    if (exact ? strcmp(err, want) != 0 : strstr(err, want) == NULL)
        fprintf(stderr, "got   '%s'\nwant  '%s'\n", err, want);
    CHECK(exact ? strcmp(err, want) == 0 : strstr(err, want) != NULL);
    CHECK_CONTAINS(err, dir);
    CHECK(strchr(err, '\n') == NULL);
}

static void expect_open_error(const char *dir, const char *want, int exact)
{
    expect_refused_by(ckpt_open, dir, want, exact);
}

static void expect_opens(const char *dir)
{
    ckpt_reader r;
    char err[600] = "";
    CHECK(ckpt_open(&r, dir, err, sizeof err) == 0);
    if (err[0])
        fprintf(stderr, "open: %s\n", err);
    ckpt_close(&r);
}

/* Byte `at` of path xor mask. */
static void flip(const char *path, off_t at, unsigned char mask)
{
    const int fd = open(path, O_RDWR);
    unsigned char b = 0;
    CHECK(fd >= 0 && pread(fd, &b, 1, at) == 1);
    b ^= mask;
    CHECK(pwrite(fd, &b, 1, at) == 1);
    close(fd);
}

static void test_torn_files(const char *dir, const ckpt_meta *m)
{
    char path[PATH_MAX + 32], want[PATH_MAX + 200];
    snprintf(path, sizeof path, "%s/exp_avg.npy", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    const off_t size = st.st_size;
    CHECK(size == 128 + 4 * m->n_params);
    /* One byte short, then the byte put back. */
    const int fd = open(path, O_RDWR);
    unsigned char last = 0;
    CHECK(fd >= 0 && pread(fd, &last, 1, size - 1) == 1 && ftruncate(fd, size - 1) == 0);
    snprintf(want, sizeof want,
             "checkpoint %s: exp_avg.npy is %lld bytes, not %lld (torn or modified)", dir,
             (long long)size - 1, (long long)size);
    expect_open_error(dir, want, 1);
    CHECK(pwrite(fd, &last, 1, size - 1) == 1);
    close(fd);
    expect_opens(dir);
    /* One bit of one element, then of the header. */
    const off_t at = 128 + 4 * below(m->n_params) + below(4);
    flip(path, at, 0x10);
    snprintf(
        want, sizeof want,
        "checkpoint %s: exp_avg.npy does not match its sha256 in manifest.json (torn or modified)",
        dir);
    expect_open_error(dir, want, 1);
    flip(path, at, 0x10);
    expect_opens(dir);
    flip(path, 20, 0x01);
    expect_open_error(dir, "exp_avg.npy does not start with the .npy header of float32", 0);
    flip(path, 20, 0x01);
    expect_opens(dir);
    /* An array file gone. */
    char moved[PATH_MAX + 32];
    snprintf(moved, sizeof moved, "%s/params.npy", dir);
    snprintf(path, sizeof path, "%s/params.moved", dir);
    CHECK(rename(moved, path) == 0);
    expect_open_error(dir, "params.npy is missing", 0);
    CHECK(rename(path, moved) == 0);
    expect_opens(dir);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = f ? calloc(1, 1 << 20) : NULL;
    if (text)
        CHECK(fread(text, 1, (1 << 20) - 1, f) > 0);
    if (f)
        fclose(f);
    return text;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fputs(text, f) >= 0);
    if (f)
        fclose(f);
}

/* The manifest with `from` replaced by `to` is refused with `want`; then restored. */
static void expect_manifest_refused(const char *dir, const char *original, const char *from,
                                    const char *to, const char *want)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    const char *hit = strstr(original, from);
    CHECK(hit != NULL);
    if (!hit)
        return;
    const size_t head = (size_t)(hit - original), n = strlen(original) + strlen(to) + 1;
    char *edited = malloc(n);
    snprintf(edited, n, "%.*s%s%s", (int)head, original, to, hit + strlen(from));
    write_text(path, edited);
    free(edited);
    expect_open_error(dir, want, 0);
    write_text(path, original);
}

static void test_bad_manifests(const char *dir, const ckpt_meta *m)
{
    char path[PATH_MAX + 32], moved[PATH_MAX + 32], want[PATH_MAX + 100], step[64];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *text = read_text(path);
    CHECK(text != NULL);
    if (!text)
        return;
    snprintf(step, sizeof step, "\"step\": %" PRId64, m->step);
    char two_steps[140], extra[140];
    snprintf(two_steps, sizeof two_steps, "%s, %s", step, step);
    snprintf(extra, sizeof extra, "%s, \"extra\": 1", step);
    expect_manifest_refused(dir, text, "\"version\": 1", "\"version\": 2",
                            "manifest.json: version 2 (this dtbench reads version 1)");
    expect_manifest_refused(dir, text, "dtbench-checkpoint", "dtbench-trajectory",
                            "manifest.json: format is not");
    expect_manifest_refused(dir, text, "\"adamw\"", "\"sgd\"",
                            "manifest.json: arrays.momentum_buffer is missing");
    expect_manifest_refused(dir, text, step, extra,
                            "manifest.json: extra is not a member of a manifest");
    expect_manifest_refused(dir, text, step, two_steps, "duplicate member name");
    expect_manifest_refused(dir, text, "\"seed\": ", "\"seed\": -",
                            "recipe.seed is not a 64-bit unsigned integer");
    expect_manifest_refused(dir, text, "\"offset\": 0", "\"offset\": 1", "tensor W0 starts at 1");
    expect_manifest_refused(dir, text, "\"decay\": true", "\"decay\": 1",
                            "model.tensors[0].decay is not true or false");
    const char *lr = strstr(text, "\"lr\": ");
    if (lr) { /* the whole member, its value replaced by one that overflows a double */
        char from[80];
        snprintf(from, sizeof from, "%.*s", (int)strcspn(lr, ","), lr);
        expect_manifest_refused(dir, text, from, "\"lr\": -1e999",
                                "recipe.lr is not a finite number");
    }
    expect_manifest_refused(dir, text, "\"file\": \"params.npy\"", "\"file\": \"../params.npy\"",
                            "arrays.params.file is not the array's name with .npy");
    expect_manifest_refused(dir, text, "\"sha256\": \"", "\"sha256\": \"A",
                            "arrays.params.sha256 is");
    expect_manifest_refused(dir, text, "\n}", "\n", "manifest.json: not valid JSON at byte");
    /* A flipped checksum (same length): the file does not match it. */
    char *sum = strstr(text, "\"sha256\": \"");
    if (sum) {
        char digit[2] = {sum[11], 0}, other[2] = {sum[11] == '0' ? '1' : '0', 0};
        char from[80], to[80];
        snprintf(from, sizeof from, "\"sha256\": \"%s", digit);
        snprintf(to, sizeof to, "\"sha256\": \"%s", other);
        expect_manifest_refused(dir, text, from, to,
                                "params.npy does not match its sha256 in manifest.json");
    }
    /* No manifest at all. */
    snprintf(moved, sizeof moved, "%s/manifest.moved", dir);
    CHECK(rename(path, moved) == 0);
    snprintf(want, sizeof want, "checkpoint %s: no manifest.json (not a committed checkpoint)",
             dir);
    expect_open_error(dir, want, 1);
    CHECK(rename(moved, path) == 0);
    expect_opens(dir);
    free(text);
}

/* ---- saves that fail ------------------------------------------------------------ */

/* Ranks' puts as {rank, array, first, count}; count -1 means "to the end". */
typedef struct put_op {
    int rank;
    int32_t array;
    int64_t first, count;
} put_op;

/* Prepares, runs ops with `world` writers (ranks listed in `abandon` leave
 * no record), commits: the commit must fail with exactly `want`; then
 * ckpt_discard removes the staging directory. */
static void expect_commit_error(const ckpt_meta *m, const contents *c, int world, const put_op *ops,
                                int n_ops, int abandon, const char *want)
{
    char stage[PATH_MAX], dir[PATH_MAX], err[512] = "";
    ckpt_writer w[4];
    CHECK(ckpt_prepare(root, m, stage, sizeof stage, err, sizeof err) == 0);
    for (int r = 0; r < world; r++)
        CHECK(ckpt_writer_open(&w[r], stage, m->optimizer, m->n_params, r, err, sizeof err) == 0);
    for (int i = 0; i < n_ops; i++) {
        const put_op *o = &ops[i];
        const int64_t count = o->count < 0 ? m->n_params - o->first : o->count;
        CHECK(ckpt_writer_put(&w[o->rank], o->array, o->first, count,
                              c->values[o->array] + o->first, err, sizeof err) == 0);
    }
    for (int r = 0; r < world; r++) {
        if (r == abandon)
            ckpt_writer_abandon(&w[r]);
        else
            CHECK(ckpt_writer_close(&w[r], err, sizeof err) == 0);
    }
    err[0] = '\0';
    CHECK(ckpt_commit(stage, root, m, world, dir, sizeof dir, err, sizeof err) == -1);
    if (strcmp(err, want) != 0)
        fprintf(stderr, "got   '%s'\nwant  '%s'\n", err, want);
    CHECK(strcmp(err, want) == 0);
    CHECK(exists(stage));
    ckpt_discard(stage);
    CHECK(!exists(stage));
    CHECK(ckpt_dir_of(root, m->step, dir, sizeof dir) == 0 && !exists(dir));
}

static void test_coverage_refusals(void)
{
    ckpt_meta m;
    contents c;
    char want[256];
    make_meta(&m, DTB_OPT_ADAMW, 500, 20, 40, 22); /* 800 + 40 + 880 + 22 = 1742 */
    contents_make(&c, &m);
    CHECK(m.n_params == 1742);
    const put_op one_gap[] = {{0, DTB_CKPT_PARAMS, 0, -1},      {0, DTB_CKPT_EXP_AVG, 0, 600},
                              {2, DTB_CKPT_EXP_AVG_SQ, 0, -1},  {1, DTB_CKPT_EXP_AVG, 1200, -1},
                              {2, DTB_CKPT_EXP_AVG, 1000, 150}, {1, DTB_CKPT_EXP_AVG, 1150, 50}};
    /* exp_avg: 0..599 and 1000..1741 (some of it twice): 600..999 missing. */
    expect_commit_error(&m, &c, 3, one_gap, 6, -1,
                        "no rank saved exp_avg elements 600..999 (of 1742)");
    const put_op gaps[] = {{0, DTB_CKPT_PARAMS, 0, 10},
                           {1, DTB_CKPT_PARAMS, 20, -1},
                           {0, DTB_CKPT_EXP_AVG, 0, 600},
                           {1, DTB_CKPT_EXP_AVG, 1200, -1},
                           {1, DTB_CKPT_EXP_AVG_SQ, 0, 1741}};
    snprintf(want, sizeof want,
             "no rank saved params elements 10..19 (of 1742); %d elements missing in all in 3 gaps",
             10 + 600 + 1);
    expect_commit_error(&m, &c, 2, gaps, 5, -1, want);
    const put_op all[] = {
        {0, DTB_CKPT_PARAMS, 0, -1}, {0, DTB_CKPT_EXP_AVG, 0, -1}, {0, DTB_CKPT_EXP_AVG_SQ, 0, -1}};
    expect_commit_error(&m, &c, 3, all, 3, 1, "rank 1 left no record of what it saved");
    contents_free(&c);
}

/* A rank that saved nothing still leaves its (empty) record; a step whose
 * directory appeared meanwhile is refused at commit. */
static void test_commit_edges(void)
{
    ckpt_meta m;
    contents c;
    char stage[PATH_MAX], dir[PATH_MAX], want[PATH_MAX + 64], err[512] = "";
    ckpt_writer w[2];
    make_meta(&m, DTB_OPT_SGD_MOMENTUM, 600, 5, 7, 3);
    contents_make(&c, &m);
    CHECK(ckpt_prepare(root, &m, stage, sizeof stage, err, sizeof err) == 0);
    for (int r = 0; r < 2; r++)
        CHECK(ckpt_writer_open(&w[r], stage, m.optimizer, m.n_params, r, err, sizeof err) == 0);
    for (int i = 0; i < c.na; i++)
        CHECK(ckpt_writer_put(&w[1], c.arrays[i], 0, c.n, c.values[c.arrays[i]], err, sizeof err) ==
              0);
    for (int r = 0; r < 2; r++)
        CHECK(ckpt_writer_close(&w[r], err, sizeof err) == 0);
    CHECK(ckpt_dir_of(root, m.step, dir, sizeof dir) == 0 && mkdir(dir, 0777) == 0);
    CHECK(ckpt_commit(stage, root, &m, 2, want, sizeof want, err, sizeof err) == -1);
    snprintf(want, sizeof want, "checkpoint %s exists already", dir);
    CHECK(strcmp(err, want) == 0);
    CHECK(rmdir(dir) == 0);
    ckpt_discard(stage);
    CHECK(!exists(stage));
    /* The same again, committed. */
    CHECK(save(root, &m, &c, 2, 0, 0, dir, sizeof dir) == 0);
    check_reads_back(dir, &m, &c);
    /* Prepared again: refused, nothing made. */
    CHECK(ckpt_prepare(root, &m, stage, sizeof stage, err, sizeof err) == -1);
    CHECK(strcmp(err, want) == 0);
    /* A writer for another n_params. */
    m.step = 601;
    CHECK(ckpt_prepare(root, &m, stage, sizeof stage, err, sizeof err) == 0);
    CHECK(ckpt_writer_open(&w[0], stage, m.optimizer, m.n_params + 1, 0, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "prepared for another n_params");
    ckpt_writer_abandon(&w[0]);
    ckpt_writer_abandon(&w[0]); /* safe twice */
    /* Never anything but a staging directory. */
    ckpt_discard(root);
    CHECK(exists(root));
    ckpt_discard(stage);
    CHECK(!exists(stage));
    contents_free(&c);
}

/* ckpt_writer_put's refusals, each one line naming the array and range. */
static void test_put_refusals(void)
{
    ckpt_meta m;
    char stage[PATH_MAX], err[512] = "", want[256];
    ckpt_writer w;
    float v[16] = {1.5f, -2.25f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f};
    make_meta(&m, DTB_OPT_SGD_MOMENTUM, 700, 4, 5, 2);
    const int64_t n = m.n_params;
    CHECK(ckpt_prepare(root, &m, stage, sizeof stage, err, sizeof err) == 0);
    CHECK(ckpt_writer_open(&w, stage, m.optimizer, n, 3, err, sizeof err) == 0);
    CHECK(ckpt_writer_put(&w, DTB_CKPT_EXP_AVG, 0, 1, v, err, sizeof err) == -1);
    CHECK(strcmp(err, "rank 3: exp_avg is not an array of this writer's checkpoint (sgd)") == 0);
    CHECK(ckpt_writer_put(&w, 7, 0, 1, v, err, sizeof err) == -1);
    CHECK(strcmp(err, "rank 3: there is no checkpoint array 7") == 0);
    CHECK(ckpt_writer_put(&w, DTB_CKPT_PARAMS, n - 5, 10, v, err, sizeof err) == -1);
    snprintf(want, sizeof want,
             "rank 3: params elements %" PRId64 "..%" PRId64 " are outside 0..%" PRId64, n - 5,
             n + 4, n - 1);
    CHECK(strcmp(err, want) == 0);
    CHECK(ckpt_writer_put(&w, DTB_CKPT_MOMENTUM, -1, 2, v, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "momentum_buffer elements -1..0 are outside");
    CHECK(ckpt_writer_put(&w, DTB_CKPT_PARAMS, 2, -3, v, err, sizeof err) == -1);
    CHECK(strcmp(err, "rank 3: params: a negative count (-3) at element 2") == 0);
    CHECK(ckpt_writer_put(&w, DTB_CKPT_PARAMS, INT64_MAX, 2, v, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "params elements (overflow) are outside");
    CHECK(ckpt_writer_put(&w, DTB_CKPT_PARAMS, 3, 0, NULL, err, sizeof err) == 0);
    CHECK(w.n_ranges[DTB_CKPT_PARAMS] == 0);
    CHECK(ckpt_writer_put(&w, DTB_CKPT_PARAMS, n - 10, 10, v, err, sizeof err) == 0);
    CHECK(w.n_ranges[DTB_CKPT_PARAMS] == 1);
    ckpt_writer_abandon(&w);
    ckpt_discard(stage);
    CHECK(!exists(stage));
}

/* The merged range list against a bitmap, after every put; then the limit
 * of CKPT_MAX_RANGES disjoint ranges. */
static void test_ranges(void)
{
    ckpt_meta m;
    char stage[PATH_MAX], err[512] = "";
    ckpt_writer w;
    make_meta(&m, DTB_OPT_SGD_MOMENTUM, 800, 100, 80, 10); /* 8000 + 80 + 800 + 10 = 8890 */
    contents c;
    contents_make(&c, &m);
    const int64_t n = m.n_params;
    unsigned char *bitmap = calloc((size_t)n, 1);
    CHECK(ckpt_prepare(root, &m, stage, sizeof stage, err, sizeof err) == 0);
    CHECK(ckpt_writer_open(&w, stage, m.optimizer, n, 0, err, sizeof err) == 0);
    for (int k = 0; bitmap && k < 3000; k++) {
        const int64_t f = below(n), count = below(k < 2000 ? 3 : 60) + (below(4) == 0 ? 0 : 1);
        const int64_t cnt = count > n - f ? n - f : count;
        CHECK(ckpt_writer_put(&w, DTB_CKPT_PARAMS, f, cnt, c.values[0] + f, err, sizeof err) == 0);
        memset(bitmap + f, 1, (size_t)cnt);
        /* Invariant: sorted, disjoint, not adjacent, and the union is the bitmap. */
        const ckpt_range *r = w.ranges[DTB_CKPT_PARAMS];
        const int nr = w.n_ranges[DTB_CKPT_PARAMS];
        int ok = 1;
        int64_t at = 0;
        for (int i = 0; i < nr; i++) {
            ok &= r[i].count >= 1 && r[i].first >= at + (i > 0);
            for (; at < r[i].first; at++)
                ok &= bitmap[at] == 0;
            for (; at < r[i].first + r[i].count; at++)
                ok &= bitmap[at] == 1;
        }
        for (; at < n; at++)
            ok &= bitmap[at] == 0;
        CHECK(ok);
        if (!ok)
            break;
    }
    ckpt_writer_abandon(&w);
    ckpt_discard(stage);
    /* 4096 disjoint single elements (the even ones), then a 4097th. */
    m.step = 801;
    CHECK(ckpt_prepare(root, &m, stage, sizeof stage, err, sizeof err) == 0);
    CHECK(ckpt_writer_open(&w, stage, m.optimizer, n, 0, err, sizeof err) == 0);
    int refused = 0;
    for (int64_t e = 0; e < 2 * CKPT_MAX_RANGES; e += 2)
        refused |= ckpt_writer_put(&w, DTB_CKPT_PARAMS, e, 1, c.values[0] + e, err, sizeof err);
    CHECK(!refused && w.n_ranges[DTB_CKPT_PARAMS] == CKPT_MAX_RANGES);
    CHECK(ckpt_writer_put(&w, DTB_CKPT_PARAMS, 2 * CKPT_MAX_RANGES, 1, c.values[0], err,
                          sizeof err) == -1);
    CHECK(strcmp(err, "rank 0: params elements 8192..8192 would be its 4097-th disjoint range (at "
                      "most 4096)") == 0);
    CHECK(ckpt_writer_put(&w, DTB_CKPT_PARAMS, 1, 1, c.values[0] + 1, err, sizeof err) == 0);
    CHECK(w.n_ranges[DTB_CKPT_PARAMS] == CKPT_MAX_RANGES - 1);
    CHECK(ckpt_writer_put(&w, DTB_CKPT_PARAMS, 0, 2 * CKPT_MAX_RANGES, c.values[0], err,
                          sizeof err) == 0);
    CHECK(w.n_ranges[DTB_CKPT_PARAMS] == 1 && w.ranges[0][0].first == 0 &&
          w.ranges[0][0].count == 2 * CKPT_MAX_RANGES);
    ckpt_writer_abandon(&w);
    ckpt_discard(stage);
    free(bitmap);
    contents_free(&c);
}

/* ---- ckpt_open_unverified; the first failing array, in array order ----------- */

/* Cuts the last byte of path off (into *last) or, restore, puts it back. */
static void cut_last_byte(const char *path, unsigned char *last, int restore)
{
    struct stat st;
    const int fd = open(path, O_RDWR);
    CHECK(fd >= 0 && fstat(fd, &st) == 0);
    if (restore)
        CHECK(pwrite(fd, last, 1, st.st_size) == 1);
    else
        CHECK(pread(fd, last, 1, st.st_size - 1) == 1 && ftruncate(fd, st.st_size - 1) == 0);
    if (fd >= 0)
        close(fd);
}

/* Opens dir unverified: exp_avg differs from c in element k alone (k -1:
 * nowhere), every other array is c's. */
static void check_unverified_reads(const char *dir, const ckpt_meta *m, const contents *c,
                                   int64_t k)
{
    ckpt_reader r;
    char err[600] = "";
    CHECK(ckpt_open_unverified(&r, dir, err, sizeof err) == 0);
    if (err[0]) {
        fprintf(stderr, "open unverified: %s\n", err);
        return;
    }
    CHECK(same_meta(&r.meta, m));
    float *got = malloc((size_t)c->n * sizeof *got);
    for (int i = 0; got && i < c->na; i++) {
        const int32_t a = c->arrays[i];
        CHECK(ckpt_read(&r, a, 0, c->n, got, err, sizeof err) == 0);
        int64_t differ = 0, where = -1;
        for (int64_t e = 0; e < c->n; e++)
            if (memcmp(&got[e], &c->values[a][e], sizeof *got) != 0) {
                differ++;
                where = e;
            }
        CHECK(a == DTB_CKPT_EXP_AVG && k >= 0 ? differ == 1 && where == k : differ == 0);
    }
    free(got);
    ckpt_close(&r);
}

/* ckpt_open_unverified skips the sha256 and nothing else: a modified
 * element opens (and reads back modified) where ckpt_open refuses it; a
 * torn file, a bad header, a missing file or manifest are refused by both
 * with the same message. */
static void test_open_unverified(const char *dir, const ckpt_meta *m, const contents *c)
{
    char path[PATH_MAX + 32], moved[PATH_MAX + 32], want[PATH_MAX + 200];
    const long long size = 128 + 4 * (long long)m->n_params;
    snprintf(path, sizeof path, "%s/exp_avg.npy", dir);
    const int64_t k = below(m->n_params);
    const off_t at = 128 + 4 * k + below(4);
    flip(path, at, 0x04);
    snprintf(
        want, sizeof want,
        "checkpoint %s: exp_avg.npy does not match its sha256 in manifest.json (torn or modified)",
        dir);
    expect_open_error(dir, want, 1);
    check_unverified_reads(dir, m, c, k);
    flip(path, at, 0x04);
    check_unverified_reads(dir, m, c, -1);
    unsigned char last = 0;
    cut_last_byte(path, &last, 0);
    snprintf(want, sizeof want,
             "checkpoint %s: exp_avg.npy is %lld bytes, not %lld (torn or modified)", dir,
             size - 1, size);
    expect_refused_by(ckpt_open, dir, want, 1);
    expect_refused_by(ckpt_open_unverified, dir, want, 1);
    cut_last_byte(path, &last, 1);
    flip(path, 20, 0x01);
    snprintf(want, sizeof want,
             "checkpoint %s: exp_avg.npy does not start with the .npy header of float32 "
             "(%" PRId64 ",)",
             dir, m->n_params);
    expect_refused_by(ckpt_open, dir, want, 1);
    expect_refused_by(ckpt_open_unverified, dir, want, 1);
    flip(path, 20, 0x01);
    static const char *const gone[2] = {"params.npy", "manifest.json"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, gone[i]);
        snprintf(moved, sizeof moved, "%s/moved", dir);
        CHECK(rename(path, moved) == 0);
        snprintf(want, sizeof want,
                 i ? "checkpoint %s: no manifest.json" : "checkpoint %s: params.npy is missing", dir);
        expect_refused_by(ckpt_open, dir, want, 0);
        expect_refused_by(ckpt_open_unverified, dir, want, 0);
        CHECK(rename(moved, path) == 0);
    }
    expect_opens(dir);
    check_unverified_reads(dir, m, c, -1);
}

/* Two corrupt files of three, the 2nd and 3rd: the 2nd's refusal every
 * time, whichever thread finds its problem first (a wrong size at once, a
 * wrong sha256 only after reading the whole file). The same at commit. */
static void test_first_failure_in_order(void)
{
    ckpt_meta m;
    contents c;
    char dir[PATH_MAX], stage[PATH_MAX], avg[PATH_MAX + 32], sq[PATH_MAX + 32];
    char want[PATH_MAX + 200], want_sq[PATH_MAX + 200], err[600];
    make_meta(&m, DTB_OPT_ADAMW, 1000, 300, 1000, 10); /* 300000 + 1000 + 10000 + 10 */
    contents_make(&c, &m);
    const long long size = 128 + 4 * (long long)m.n_params;
    CHECK(save(root, &m, &c, 2, 0, 0, dir, sizeof dir) == 0);
    snprintf(avg, sizeof avg, "%s/exp_avg.npy", dir);
    snprintf(sq, sizeof sq, "%s/exp_avg_sq.npy", dir);
    const off_t at_avg = 128 + 4 * below(m.n_params), at_sq = 128 + 4 * below(m.n_params);
    flip(avg, at_avg, 0x80);
    flip(sq, at_sq, 0x80);
    snprintf(
        want, sizeof want,
        "checkpoint %s: exp_avg.npy does not match its sha256 in manifest.json (torn or modified)",
        dir);
    for (int i = 0; i < 10; i++)
        expect_open_error(dir, want, 1);
    flip(sq, at_sq, 0x80);
    unsigned char last = 0;
    cut_last_byte(sq, &last, 0);
    for (int i = 0; i < 10; i++)
        expect_open_error(dir, want, 1);
    /* Unverified, exp_avg's modification is invisible: exp_avg_sq's size it is. */
    snprintf(want_sq, sizeof want_sq,
             "checkpoint %s: exp_avg_sq.npy is %lld bytes, not %lld (torn or modified)", dir,
             size - 1, size);
    expect_refused_by(ckpt_open_unverified, dir, want_sq, 1);
    cut_last_byte(sq, &last, 1);
    flip(avg, at_avg, 0x80);
    check_reads_back(dir, &m, &c);

    /* At commit: exp_avg's header and exp_avg_sq's size in the staging directory. */
    m.step = 1001;
    CHECK(ckpt_prepare(root, &m, stage, sizeof stage, err, sizeof err) == 0);
    CHECK(write_world(stage, &c, m.optimizer, 2, 1, 0) == 0);
    snprintf(avg, sizeof avg, "%s/exp_avg.npy", stage);
    snprintf(sq, sizeof sq, "%s/exp_avg_sq.npy", stage);
    flip(avg, 20, 0x01);
    cut_last_byte(sq, &last, 0);
    snprintf(want, sizeof want,
             "%s does not start with the .npy header of float32 (%" PRId64 ",)", avg, m.n_params);
    for (int i = 0; i < 10; i++) {
        err[0] = '\0';
        CHECK(ckpt_commit(stage, root, &m, 2, dir, sizeof dir, err, sizeof err) == -1);
        if (strcmp(err, want) != 0)
            fprintf(stderr, "got   '%s'\nwant  '%s'\n", err, want);
        CHECK(strcmp(err, want) == 0);
    }
    /* Repaired, the same staging directory commits. */
    flip(avg, 20, 0x01);
    cut_last_byte(sq, &last, 1);
    CHECK(ckpt_commit(stage, root, &m, 2, dir, sizeof dir, err, sizeof err) == 0);
    CHECK(!exists(stage));
    check_reads_back(dir, &m, &c);
    contents_free(&c);
}

/* Torn files, bad manifests and read refusals on one AdamW checkpoint. */
static void test_refusals_on_open(void)
{
    ckpt_meta m;
    contents c;
    char dir[PATH_MAX];
    make_meta(&m, DTB_OPT_ADAMW, 900, 9, 17, 5);
    contents_make(&c, &m);
    CHECK(save(root, &m, &c, 3, 1, 0, dir, sizeof dir) == 0);
    check_reads_back(dir, &m, &c);
    test_torn_files(dir, &m);
    test_open_unverified(dir, &m, &c);
    test_bad_manifests(dir, &m);
    test_read_refusals(dir, &m);
    check_reads_back(dir, &m, &c);
    contents_free(&c);
}

/* ckpt_latest: the highest committed step-<digits>, nothing else. */
static void test_latest(void)
{
    char top[PATH_MAX], dir[PATH_MAX + 64], want[PATH_MAX + 32], err[512] = "", stage[PATH_MAX];
    int64_t step = -1;
    snprintf(top, sizeof top, "%.4000s/latest", root);
    CHECK(ckpt_latest(top, &step, dir, sizeof dir, err, sizeof err) == 1); /* no root */
    CHECK(mkdir(top, 0777) == 0);
    CHECK(ckpt_latest(top, &step, dir, sizeof dir, err, sizeof err) == 1); /* empty */
    const int64_t steps[3] = {3, 12, 7};
    for (int i = 0; i < 3; i++) {
        ckpt_meta m;
        contents c;
        make_meta(&m, DTB_OPT_SGD_MOMENTUM, steps[i], 3, 4, 2);
        contents_make(&c, &m);
        CHECK(save(top, &m, &c, 1, 0, 0, dir, sizeof dir) == 0);
        contents_free(&c);
    }
    /* Staging directories (a real one, uncommitted), look-alikes. */
    ckpt_meta m;
    make_meta(&m, DTB_OPT_ADAMW, 50, 3, 4, 2);
    CHECK(ckpt_prepare(top, &m, stage, sizeof stage, err, sizeof err) == 0);
    static const char *const dirs[] = {
        ".step-99.partial-1",        "step-100x", "step-", "step-0200", "step--300", "step-+400",
        "step-99999999999999999999", "Step-500"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(dir, sizeof dir, "%s/%s", top, dirs[i]);
        CHECK(mkdir(dir, 0777) == 0);
    }
    snprintf(dir, sizeof dir, "%s/step-600", top);
    write_text(dir, "a file, not a directory\n");
    CHECK(ckpt_latest(top, &step, dir, sizeof dir, err, sizeof err) == 0);
    snprintf(want, sizeof want, "%s/step-12", top);
    CHECK(step == 12 && strcmp(dir, want) == 0);
    CHECK(ckpt_latest(top, &step, dir, 4, err, sizeof err) == -1); /* no room for the path */
    ckpt_discard(stage);
}

/* ---- the manifest's JSON reader --------------------------------------------------- */

/* json_parse refuses text with err naming the byte; accepts the rest. */
static void check_json(const char *text, int ok)
{
    char err[256] = "";
    json_value *v = json_parse(text, err, sizeof err);
    if ((v != NULL) != ok)
        fprintf(stderr, "json_parse(%s): %s\n", text, v ? "accepted" : err);
    CHECK((v != NULL) == ok);
    if (!ok)
        CHECK_CONTAINS(err, "not valid JSON at byte");
    json_free(v);
}

static void test_json_value(void)
{
    check_json("{\"a\": [1, -2.5e-3, true, false, null, \"\\u00e9\\ud83d\\ude00\"]}", 1);
    check_json("\"\xc3\xa9\xf0\x9f\x98\x80\"", 1);
    static const char *const bad[] = {"",
                                      "{",
                                      "{\"a\" 1}",
                                      "{\"a\": 1,}",
                                      "[1 2]",
                                      "01",
                                      "1.",
                                      "-",
                                      "1e",
                                      "+1",
                                      "tru",
                                      "{} {}",
                                      "\"\\x\"",
                                      "\"a\tb\"",
                                      "\"\\ud800\"",
                                      "\"\\udc00\"",
                                      "\"\xc3\"",
                                      "\"\xc0\xaf\"",
                                      "\"\xed\xa0\x80\"",
                                      "\"\xf4\x90\x80\x80\"",
                                      "{\"a\": 1, \"a\": 2}",
                                      "NaN",
                                      "[Infinity]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_json(bad[i], 0);
    char deep[200];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    check_json(deep, 0);
    char err[256];
    json_value *v = json_parse("[9223372036854775807, 9223372036854775808, -9223372036854775808, "
                               "18446744073709551615, 18446744073709551616, 1.5, 1e999, "
                               "4.9406564584124654e-324, -0]",
                               err, sizeof err);
    CHECK(v && v->kind == JSON_ARRAY && v->n == 9);
    if (!v)
        return;
    int64_t i64;
    uint64_t u64;
    double d;
    CHECK(json_as_int64(&v->items[0], &i64) == 0 && i64 == INT64_MAX);
    CHECK(json_as_int64(&v->items[1], &i64) == -1);
    CHECK(json_as_int64(&v->items[2], &i64) == 0 && i64 == INT64_MIN);
    CHECK(json_as_uint64(&v->items[3], &u64) == 0 && u64 == UINT64_MAX);
    CHECK(json_as_uint64(&v->items[4], &u64) == -1);
    CHECK(json_as_uint64(&v->items[2], &u64) == -1);
    CHECK(json_as_int64(&v->items[5], &i64) == -1);
    CHECK(json_as_double(&v->items[5], &d) == 0 && d == 1.5);
    CHECK(json_as_double(&v->items[6], &d) == -1);
    CHECK(json_as_double(&v->items[7], &d) == 0 && d > 0 && d < 1e-323);
    CHECK(json_as_double(&v->items[8], &d) == 0 && d == 0 && signbit(d));
    json_free(v);
}

int main(void)
{
    const char *tmpdir = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/ckpt-test-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_json_value();
    test_round_trips();
    test_coverage_refusals();
    test_commit_edges();
    test_put_refusals();
    test_ranges();
    test_refusals_on_open();
    test_first_failure_in_order();
    test_latest();
    rm_tree(root);
    return check_report("checkpoint_unit_files");
}
