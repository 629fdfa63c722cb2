/*
 * Writes a checkpoint with known random contents for checkpoint_numpy.py:
 * a GPT-like tensor table (1- to 4-dimensional tensors), AdamW, a world of
 * three ranks (one after the other) saving overlapping ranges. Beside the
 * checkpoint, under ROOT, expected-<array>.bin holds each array's values as
 * raw little-endian float32. Prints "dir <committed path>", then each
 * recipe double as "<name> <C99 hex float>", then "seed <u64>".
 *
 * Usage: checkpoint_numpy_writer ROOT
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_files.h"

static uint64_t rng = 20260214;

static uint64_t next_u64(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1) times a power of two in 2^-8 .. 2^7: never zero. */
static float random_value(void)
{
    float v = (float)((double)(next_u64() >> 11) / 9007199254740992.0 * 2 - 1);
    v = v == 0.0f ? 0.5f : v;
    return v * (float)(1 << (next_u64() % 16)) / 256.0f;
}

static void add_tensor(ckpt_meta *m, const char *name, int ndim, const int64_t *shape, int layer,
                       uint32_t flags)
{
    dtb_tensor_desc *t = &m->tensors[m->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->numel = 1;
    for (int d = 0; d < ndim; d++) {
        t->shape[d] = shape[d];
        t->numel *= shape[d];
    }
    t->offset = m->n_params;
    t->layer = layer;
    t->flags = flags;
    m->n_params += t->numel;
}

static void make_meta(ckpt_meta *m)
{
    memset(m, 0, sizeof *m);
    m->step = 17;
    snprintf(m->model, sizeof m->model, "gpt-tiny \"numpy\"");
    m->model_kind = DTB_MODEL_GPT;
    const int64_t wte[2] = {37, 12}, wpe[2] = {9, 12}, attn[2] = {12, 36}, bias[1] = {36},
                  odd[3] = {2, 3, 5}, four[4] = {2, 2, 3, 2}, ln[1] = {12};
    add_tensor(m, "wte", 2, wte, -1, DTB_TENSOR_DECAY | DTB_TENSOR_TIED);
    add_tensor(m, "wpe", 2, wpe, -1, DTB_TENSOR_DECAY);
    add_tensor(m, "h0.attn.c_attn.weight", 2, attn, 0, DTB_TENSOR_DECAY);
    add_tensor(m, "h0.attn.c_attn.bias", 1, bias, 0, 0);
    add_tensor(m, "h0.odd", 3, odd, 0, DTB_TENSOR_DECAY);
    add_tensor(m, "h1.four", 4, four, 1, DTB_TENSOR_DECAY);
    add_tensor(m, "ln_f.weight", 1, ln, -1, 0);
    m->optimizer = DTB_OPT_ADAMW;
    m->lr = 6e-4 / 7;
    m->momentum = 0;
    m->beta1 = 0.9;
    m->beta2 = 0.95;
    m->eps = 1e-8;
    m->weight_decay = 0.1;
    m->clip_norm = 1.0 / 3;
    m->precision = DTB_PREC_BF16_MIXED;
    m->global_batch = 24;
    m->micro_batches = 4;
    m->seed = 0xF00DFACEDEADBEEFull;
    snprintf(m->writer_impl, sizeof m->writer_impl, "ref-zero3");
    m->writer_stage = DTB_STAGE_ZERO3;
    m->writer_world = 3;
}

static int dump(const char *root, const char *name, const float *v, int64_t n)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/expected-%s.bin", root, name);
    FILE *f = fopen(path, "wb");
    for (int64_t i = 0; f && i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        const unsigned char le[4] = {(unsigned char)bits, (unsigned char)(bits >> 8),
                                     (unsigned char)(bits >> 16), (unsigned char)(bits >> 24)};
        if (fwrite(le, 1, 4, f) != 4)
            break;
    }
    return f && fclose(f) == 0 ? 0 : -1;
}

/* Rank r of 3 saves its third of every array, one element into each neighbour's. */
static int save_rank(const char *stage, const ckpt_meta *m, float *const *values, int r, char *err,
                     size_t len)
{
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    const int na = ckpt_arrays_of(m->optimizer, arrays);
    ckpt_writer w;
    if (ckpt_writer_open(&w, stage, m->optimizer, m->n_params, r, err, len))
        return -1;
    int64_t lo = m->n_params * r / 3 - 1, hi = m->n_params * (r + 1) / 3 + 1;
    lo = lo < 0 ? 0 : lo;
    hi = hi > m->n_params ? m->n_params : hi;
    for (int i = 0; i < na; i++)
        if (ckpt_writer_put(&w, arrays[i], lo, hi - lo, values[arrays[i]] + lo, err, len)) {
            ckpt_writer_abandon(&w);
            return -1;
        }
    return ckpt_writer_close(&w, err, len);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: checkpoint_numpy_writer ROOT\n");
        return 2;
    }
    static ckpt_meta m;
    make_meta(&m);
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    const int na = ckpt_arrays_of(m.optimizer, arrays);
    float *values[DTB_CKPT_ARRAY_COUNT] = {NULL};
    char stage[PATH_MAX], dir[PATH_MAX], err[512] = "";
    int rc = 0;
    for (int i = 0; i < na && rc == 0; i++) {
        float *v = values[arrays[i]] = malloc((size_t)m.n_params * sizeof *v);
        for (int64_t k = 0; v && k < m.n_params; k++)
            v[k] = random_value();
        rc = v && dump(argv[1], ckpt_array_name(arrays[i]), v, m.n_params) == 0 ? 0 : -1;
        if (rc)
            snprintf(err, sizeof err, "cannot write expected-%s.bin", ckpt_array_name(arrays[i]));
    }
    rc = rc ? rc : ckpt_prepare(argv[1], &m, stage, sizeof stage, err, sizeof err);
    for (int r = 0; r < 3 && rc == 0; r++)
        rc = save_rank(stage, &m, values, r, err, sizeof err);
    rc = rc ? rc : ckpt_commit(stage, argv[1], &m, 3, dir, sizeof dir, err, sizeof err);
    for (int a = 0; a < DTB_CKPT_ARRAY_COUNT; a++)
        free(values[a]);
    if (rc) {
        fprintf(stderr, "checkpoint_numpy_writer: %s\n", err);
        return 1;
    }
    printf("dir %s\n", dir);
    const char *names[7] = {"lr", "momentum", "beta1", "beta2", "eps", "weight_decay", "clip_norm"};
    const double v[7] = {m.lr, m.momentum, m.beta1, m.beta2, m.eps, m.weight_decay, m.clip_norm};
    for (int i = 0; i < 7; i++)
        printf("%s %a\n", names[i], v[i]);
    printf("seed %" PRIu64 "\n", m.seed);
    return 0;
}
