#include "rank_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HEADER_BYTES (8 + 4 + 4 + 8 + 8 + 4 + 4)
#define TRAILER_BYTES                                                                     \
    (6 * 8 * DTB_COLL_KIND_COUNT + 4 + 4 + 4 * 4 + 8 + 4 + 4 + 8 + 8 +                    \
     8 * DTB_MEM_CATEGORY_COUNT + 8 + 8 + 8 + 8)

/* ---- little-endian encoding into a byte buffer ---------------------------- */
typedef struct cursor {
    unsigned char *p;
    size_t pos, len;
} cursor;

static void put_u64(cursor *c, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        c->p[c->pos++] = (unsigned char)(v >> (8 * i));
}
static void put_u32(cursor *c, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        c->p[c->pos++] = (unsigned char)(v >> (8 * i));
}
static void put_i64(cursor *c, int64_t v) { put_u64(c, (uint64_t)v); }
static void put_i32(cursor *c, int32_t v) { put_u32(c, (uint32_t)v); }
static void put_f64(cursor *c, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(c, u);
}
static void put_f32(cursor *c, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_u32(c, u);
}
static void put_bytes(cursor *c, const char *s, size_t n)
{
    memcpy(c->p + c->pos, s, n);
    c->pos += n;
}

static uint64_t get_u64(cursor *c)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)c->p[c->pos++] << (8 * i);
    return v;
}
static uint32_t get_u32(cursor *c)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)c->p[c->pos++] << (8 * i);
    return v;
}
static int64_t get_i64(cursor *c) { return (int64_t)get_u64(c); }
static int32_t get_i32(cursor *c) { return (int32_t)get_u32(c); }
static double get_f64(cursor *c)
{
    uint64_t u = get_u64(c);
    double v;
    memcpy(&v, &u, 8);
    return v;
}
static float get_f32(cursor *c)
{
    uint32_t u = get_u32(c);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

size_t rank_compute_bytes(const rank_result *r)
{
    if (!r->has_compute_params)
        return 0;
    return r->compute_dtype == DTB_DTYPE_FP32 ? 4 : r->compute_dtype == DTB_DTYPE_BF16 ? 2 : 0;
}

dtb_counters rank_step_traffic(const rank_result *r, int *measured)
{
    if (measured)
        *measured = r->measured_valid != 0;
    if (!r->measured_valid)
        return r->counters;
    dtb_counters k = r->measured;
    for (int i = 0; i < DTB_COLL_KIND_COUNT; i++) {
        const uint64_t c = r->measured_create.calls[i], b = r->measured_create.bytes[i];
        k.calls[i] -= c <= k.calls[i] ? c : k.calls[i];
        k.bytes[i] -= b <= k.bytes[i] ? b : k.bytes[i];
    }
    return k;
}

/* Total file size implied by the header fields (already bounds-checked). */
static size_t file_bytes(const rank_result *h)
{
    size_t elements = (size_t)h->n_checks * (size_t)h->n_params;
    return HEADER_BYTES + (size_t)h->steps * 32 + (size_t)h->n_checks * 8 + elements * 4 +
           elements * rank_compute_bytes(h) + TRAILER_BYTES;
}

int rank_result_alloc(rank_result *r)
{
    size_t steps = (size_t)r->steps, checks = (size_t)r->n_checks;
    r->loss = calloc(steps ? steps : 1, sizeof *r->loss);
    r->grad_norm = calloc(steps ? steps : 1, sizeof *r->grad_norm);
    r->clip_coef = calloc(steps ? steps : 1, sizeof *r->clip_coef);
    r->step_seconds = calloc(steps ? steps : 1, sizeof *r->step_seconds);
    r->check_steps = calloc(checks ? checks : 1, sizeof *r->check_steps);
    size_t n_floats = checks * (size_t)r->n_params;
    r->params = calloc(n_floats > 0 ? n_floats : 1, sizeof *r->params);
    size_t w = rank_compute_bytes(r);
    r->compute_params = w && n_floats ? calloc(n_floats, w) : NULL;
    if (!r->loss || !r->grad_norm || !r->clip_coef || !r->step_seconds || !r->check_steps ||
        !r->params || (w && n_floats && !r->compute_params)) {
        rank_result_free(r);
        return -1;
    }
    return 0;
}

void rank_result_free(rank_result *r)
{
    free(r->loss);
    free(r->grad_norm);
    free(r->clip_coef);
    free(r->step_seconds);
    free(r->check_steps);
    free(r->params);
    free(r->compute_params);
    r->loss = r->grad_norm = r->clip_coef = r->step_seconds = NULL;
    r->check_steps = NULL;
    r->params = NULL;
    r->compute_params = NULL;
}

static void put_counters(cursor *c, const dtb_counters *k)
{
    for (int i = 0; i < DTB_COLL_KIND_COUNT; i++)
        put_u64(c, k->calls[i]);
    for (int i = 0; i < DTB_COLL_KIND_COUNT; i++)
        put_u64(c, k->bytes[i]);
}

static void get_counters(cursor *c, dtb_counters *k)
{
    for (int i = 0; i < DTB_COLL_KIND_COUNT; i++)
        k->calls[i] = get_u64(c);
    for (int i = 0; i < DTB_COLL_KIND_COUNT; i++)
        k->bytes[i] = get_u64(c);
}

static void encode(cursor *c, const rank_result *r)
{
    put_bytes(c, RANK_FILE_MAGIC, 8);
    put_i32(c, r->rank);
    put_i32(c, r->world_size);
    put_i64(c, r->steps);
    put_i64(c, r->n_params);
    put_i32(c, r->n_checks);
    put_i32(c, r->has_compute_params ? r->compute_dtype : -1);
    for (int64_t s = 0; s < r->steps; s++)
        put_f64(c, r->loss[s]);
    for (int64_t s = 0; s < r->steps; s++)
        put_f64(c, r->grad_norm[s]);
    for (int64_t s = 0; s < r->steps; s++)
        put_f64(c, r->clip_coef[s]);
    for (int64_t s = 0; s < r->steps; s++)
        put_f64(c, r->step_seconds[s]);
    for (int32_t k = 0; k < r->n_checks; k++)
        put_i64(c, r->check_steps[k]);
    const int64_t elements = (int64_t)r->n_checks * r->n_params;
    for (int64_t i = 0; i < elements; i++)
        put_f32(c, r->params[i]);
    if (rank_compute_bytes(r) == 4) {
        for (int64_t i = 0; i < elements; i++)
            put_f32(c, ((const float *)r->compute_params)[i]);
    } else if (rank_compute_bytes(r) == 2) {
        for (int64_t i = 0; i < elements; i++) {
            uint16_t v = ((const uint16_t *)r->compute_params)[i];
            c->p[c->pos++] = (unsigned char)v;
            c->p[c->pos++] = (unsigned char)(v >> 8);
        }
    }
    put_counters(c, &r->counters);
    put_counters(c, &r->measured);
    put_counters(c, &r->measured_create);
    put_i32(c, r->measured_valid);
    put_i32(c, 0);
    put_i32(c, r->facts.stage);
    put_i32(c, r->facts.precision);
    put_i32(c, r->facts.reduce_dtype);
    put_i32(c, r->facts.param_dtype);
    put_i64(c, r->facts.bucket_bytes);
    put_i32(c, r->facts.prefetch_depth);
    put_i32(c, 0);
    put_i64(c, r->facts.mem_padding_bytes);
    put_i64(c, r->facts.mem_working_bytes);
    for (int k = 0; k < DTB_MEM_CATEGORY_COUNT; k++)
        put_i64(c, r->mem_peak[k]);
    put_i64(c, r->mem_total_peak);
    put_i64(c, r->rss_base);
    put_i64(c, r->rss_hwm);
    put_bytes(c, RANK_FILE_END, 8);
}

int rank_file_write(const char *path, const rank_result *r, char *err, size_t err_len)
{
    size_t len = file_bytes(r);
    cursor c = {malloc(len), 0, len};
    if (!c.p) {
        snprintf(err, err_len, "out of memory encoding %zu-byte rank file", len);
        return -1;
    }
    encode(&c, r);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int ok = f != NULL;
    if (ok)
        ok = fwrite(c.p, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    free(c.p);
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* Reads the whole file; *len is its size. */
static unsigned char *slurp(const char *path, size_t *len, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    /* Only a regular file: a directory opens, but "sizes" to LONG_MAX. */
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s is not a regular file", path);
        fclose(f);
        return NULL;
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, err_len, "cannot size %s", path);
        fclose(f);
        return NULL;
    }
    unsigned char *buf = malloc((size_t)size + 1);
    if (!buf) {
        snprintf(err, err_len, "out of memory reading %s (%ld bytes)", path, size);
        fclose(f);
        return NULL;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        snprintf(err, err_len, "short read of %s", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static void decode_body(cursor *c, rank_result *r)
{
    for (int64_t s = 0; s < r->steps; s++)
        r->loss[s] = get_f64(c);
    for (int64_t s = 0; s < r->steps; s++)
        r->grad_norm[s] = get_f64(c);
    for (int64_t s = 0; s < r->steps; s++)
        r->clip_coef[s] = get_f64(c);
    for (int64_t s = 0; s < r->steps; s++)
        r->step_seconds[s] = get_f64(c);
    for (int32_t k = 0; k < r->n_checks; k++)
        r->check_steps[k] = get_i64(c);
    const int64_t elements = (int64_t)r->n_checks * r->n_params;
    for (int64_t i = 0; i < elements; i++)
        r->params[i] = get_f32(c);
    if (rank_compute_bytes(r) == 4) {
        for (int64_t i = 0; i < elements; i++)
            ((float *)r->compute_params)[i] = get_f32(c);
    } else if (rank_compute_bytes(r) == 2) {
        for (int64_t i = 0; i < elements; i++) {
            uint16_t v = (uint16_t)(c->p[c->pos] | (c->p[c->pos + 1] << 8));
            c->pos += 2;
            ((uint16_t *)r->compute_params)[i] = v;
        }
    }
    get_counters(c, &r->counters);
    get_counters(c, &r->measured);
    get_counters(c, &r->measured_create);
    r->counters.struct_size = r->measured.struct_size = sizeof(dtb_counters);
    r->measured_create.struct_size = sizeof(dtb_counters);
    r->facts.struct_size = sizeof(dtb_facts);
    r->measured_valid = get_i32(c);
    (void)get_i32(c);
    r->facts.stage = get_i32(c);
    r->facts.precision = get_i32(c);
    r->facts.reduce_dtype = get_i32(c);
    r->facts.param_dtype = get_i32(c);
    r->facts.bucket_bytes = get_i64(c);
    r->facts.prefetch_depth = get_i32(c);
    (void)get_i32(c);
    r->facts.mem_padding_bytes = get_i64(c);
    r->facts.mem_working_bytes = get_i64(c);
    for (int k = 0; k < DTB_MEM_CATEGORY_COUNT; k++)
        r->mem_peak[k] = get_i64(c);
    r->mem_total_peak = get_i64(c);
    r->rss_base = get_i64(c);
    r->rss_hwm = get_i64(c);
}

int rank_file_read(const char *path, rank_result *r, char *err, size_t err_len)
{
    memset(r, 0, sizeof *r);
    size_t len = 0;
    unsigned char *buf = slurp(path, &len, err, err_len);
    if (!buf)
        return -1;
    cursor c = {buf, 0, len};
    int rc = -1;
    if (len < HEADER_BYTES + TRAILER_BYTES || memcmp(buf, RANK_FILE_MAGIC, 8) != 0) {
        snprintf(err, err_len, "%s is not a rank file (bad magic or %zu bytes)", path, len);
        goto out;
    }
    c.pos = 8;
    rank_result h;
    memset(&h, 0, sizeof h);
    h.rank = get_i32(&c);
    h.world_size = get_i32(&c);
    h.steps = get_i64(&c);
    h.n_params = get_i64(&c);
    h.n_checks = get_i32(&c);
    h.compute_dtype = get_i32(&c);
    h.has_compute_params = h.compute_dtype != -1;
    if (h.rank < 0 || h.world_size < 1 || h.rank >= h.world_size || h.steps < 0 ||
        h.steps > RANK_FILE_MAX_STEPS || h.n_params < 0 || h.n_params > RANK_FILE_MAX_PARAMS ||
        h.n_checks < 0 || h.n_checks > RANK_FILE_MAX_CHECKS ||
        (h.compute_dtype != -1 && h.compute_dtype != DTB_DTYPE_FP32 &&
         h.compute_dtype != DTB_DTYPE_BF16)) {
        snprintf(err, err_len, "%s: header out of range (rank %d of %d, %lld steps, %lld params, "
                 "%d checks, compute dtype %d)", path, h.rank, h.world_size, (long long)h.steps,
                 (long long)h.n_params, h.n_checks, h.compute_dtype);
        goto out;
    }
    size_t want = file_bytes(&h);
    if (len != want) {
        snprintf(err, err_len, "%s is %s: %zu bytes, header implies %zu", path,
                 len < want ? "truncated" : "too long", len, want);
        goto out;
    }
    if (memcmp(buf + len - 8, RANK_FILE_END, 8) != 0) {
        snprintf(err, err_len, "%s: end marker missing", path);
        goto out;
    }
    if (rank_result_alloc(&h) != 0) {
        snprintf(err, err_len, "out of memory reading %s", path);
        goto out;
    }
    decode_body(&c, &h);
    *r = h;
    rc = 0;
out:
    free(buf);
    return rc;
}
