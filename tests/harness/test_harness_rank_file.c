/* rank_file.h: a round trip keeps every field bit for bit; truncated,
 * over-long, corrupted and absent files are errors with a message. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "rank_file.h"

static void fill(rank_result *r)
{
    r->rank = 2;
    r->world_size = 3;
    r->steps = 5;
    r->n_params = 7;
    r->n_checks = 2;
    r->has_compute_params = 1;
    r->compute_dtype = DTB_DTYPE_BF16;
    CHECK(rank_result_alloc(r) == 0);
    for (int s = 0; s < 5; s++) {
        r->loss[s] = 2.0 / (s + 1);
        r->grad_norm[s] = s == 3 ? -1.0 : 0.1 * s;
        r->clip_coef[s] = s == 2 ? -1.0 : 1.0 / (s + 2);
        r->step_seconds[s] = 1e-3 * s;
    }
    for (int i = 0; i < 14; i++)
        ((uint16_t *)r->compute_params)[i] = (uint16_t)(0x3f80 + 37 * i);
    r->check_steps[0] = 1;
    r->check_steps[1] = 5;
    for (int i = 0; i < 14; i++)
        r->params[i] = (float)i / 3.0f - 1.0f;
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        r->counters.calls[k] = (uint64_t)k + 1;
        r->counters.bytes[k] = 1000ull * (uint64_t)k + (1ull << 40);
    }
    r->facts = (dtb_facts){sizeof r->facts, DTB_STAGE_DDP, DTB_PREC_FP32, DTB_DTYPE_FP32,
                           DTB_DTYPE_FP32, 4096, -1, 12, 34};
    for (int k = 0; k < DTB_MEM_CATEGORY_COUNT; k++)
        r->mem_peak[k] = 100 * k;
    r->mem_total_peak = 12345;
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        r->measured.calls[k] = (uint64_t)k * 3 + 2;
        r->measured.bytes[k] = 777ull * (uint64_t)k + (1ull << 41);
    }
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        r->measured_create.calls[k] = (uint64_t)k + 1;
        r->measured_create.bytes[k] = 31ull * (uint64_t)k + 5;
    }
    r->measured_valid = 1;
    r->rss_base = 1ll << 30;
    r->rss_hwm = (1ll << 31) + 5;
}

static int same_counters(const dtb_counters *a, const dtb_counters *b)
{
    return memcmp(a->calls, b->calls, sizeof a->calls) == 0 &&
           memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

static int same_facts(const dtb_facts *a, const dtb_facts *b)
{
    return a->stage == b->stage && a->precision == b->precision &&
           a->reduce_dtype == b->reduce_dtype && a->param_dtype == b->param_dtype &&
           a->bucket_bytes == b->bucket_bytes && a->prefetch_depth == b->prefetch_depth &&
           a->mem_padding_bytes == b->mem_padding_bytes &&
           a->mem_working_bytes == b->mem_working_bytes;
}

static int same(const rank_result *a, const rank_result *b)
{
    return a->rank == b->rank && a->world_size == b->world_size && a->steps == b->steps &&
           a->n_params == b->n_params && a->n_checks == b->n_checks &&
           memcmp(a->loss, b->loss, 5 * sizeof(double)) == 0 &&
           memcmp(a->grad_norm, b->grad_norm, 5 * sizeof(double)) == 0 &&
           memcmp(a->clip_coef, b->clip_coef, 5 * sizeof(double)) == 0 &&
           memcmp(a->step_seconds, b->step_seconds, 5 * sizeof(double)) == 0 &&
           memcmp(a->check_steps, b->check_steps, 2 * sizeof(int64_t)) == 0 &&
           memcmp(a->params, b->params, 14 * sizeof(float)) == 0 &&
           a->has_compute_params == b->has_compute_params &&
           a->compute_dtype == b->compute_dtype &&
           memcmp(a->compute_params, b->compute_params, 14 * sizeof(uint16_t)) == 0 &&
           same_counters(&a->counters, &b->counters) &&
           same_counters(&a->measured, &b->measured) &&
           same_counters(&a->measured_create, &b->measured_create) &&
           a->measured_valid == b->measured_valid &&
           same_facts(&a->facts, &b->facts) &&
           memcmp(a->mem_peak, b->mem_peak, sizeof a->mem_peak) == 0 &&
           a->mem_total_peak == b->mem_total_peak && a->rss_base == b->rss_base &&
           a->rss_hwm == b->rss_hwm;
}

/* Copies the first `len` bytes of src to dst, optionally flipping byte `flip`. */
static void copy_prefix(const char *src, const char *dst, long len, long flip)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    CHECK(in && out);
    if (!in || !out)
        return;
    for (long i = 0; i < len; i++) {
        int c = fgetc(in);
        if (c == EOF)
            break;
        fputc(i == flip ? c ^ 0xff : c, out);
    }
    fclose(in);
    fclose(out);
}

int main(void)
{
    char dir[] = "/tmp/dtbench-rankfile-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], bad[256], err[512];
    snprintf(path, sizeof path, "%s/rank-2.bin", dir);
    snprintf(bad, sizeof bad, "%s/bad.bin", dir);

    rank_result w, r;
    memset(&w, 0, sizeof w);
    fill(&w);
    CHECK(rank_file_write(path, &w, err, sizeof err) == 0);
    CHECK(rank_file_read(path, &r, err, sizeof err) == 0);
    CHECK(same(&w, &r));
    rank_result_free(&r);

    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    /* header 40 + 5 steps * 4 f64 + 2 check steps * 8 + 14 f32 params + 14 bf16
     * compute params + trailer: 6 * 7 counters * 8 (reported, measured,
     * measured in create), 2 i32, 4 i32 + 8 + 2 i32 facts, 2 i64 allowances,
     * 6 + 1 i64 memory, 2 i64 rss, 8 end marker */
    const long trailer = 6 * 7 * 8 + 8 + 16 + 16 + 16 + 56 + 16 + 8;
    CHECK(size == 40 + 160 + 16 + 56 + 28 + trailer);

    long cuts[] = {0, 7, 39, 40, 100, size - 9, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        copy_prefix(path, bad, cuts[i], -1);
        CHECK(rank_file_read(bad, &r, err, sizeof err) != 0);
        CHECK(r.loss == NULL && r.params == NULL);
    }
    copy_prefix(path, bad, size - 1, -1);
    CHECK(rank_file_read(bad, &r, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "truncated");
    copy_prefix(path, bad, size, 0); /* magic */
    CHECK(rank_file_read(bad, &r, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "not a rank file");
    copy_prefix(path, bad, size, size - 2); /* end marker */
    CHECK(rank_file_read(bad, &r, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "end marker");
    copy_prefix(path, bad, size, 16 + 7); /* steps' top byte: absurd size */
    CHECK(rank_file_read(bad, &r, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "header out of range");
    copy_prefix(path, bad, size, -1);
    f = fopen(bad, "ab");
    CHECK(f != NULL);
    if (f) {
        fputc('x', f);
        fclose(f);
    }
    CHECK(rank_file_read(bad, &r, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "too long");
    CHECK(rank_file_read("/nonexistent/rank-0.bin", &r, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "cannot open");
    /* A directory opens for reading but is no rank file (and must not be
     * sized by seeking: that claims LONG_MAX bytes). */
    CHECK(rank_file_read(dir, &r, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "not a regular file");

    rank_result_free(&w);
    unlink(path);
    unlink(bad);
    rmdir(dir);
    return check_report("test_harness_rank_file");
}
