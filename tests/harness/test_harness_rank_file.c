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
    CHECK(rank_result_alloc(r) == 0);
    for (int s = 0; s < 5; s++) {
        r->loss[s] = 2.0 / (s + 1);
        r->grad_norm[s] = s == 3 ? -1.0 : 0.1 * s;
        r->step_seconds[s] = 1e-3 * s;
    }
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
}

static int same(const rank_result *a, const rank_result *b)
{
    return a->rank == b->rank && a->world_size == b->world_size && a->steps == b->steps &&
           a->n_params == b->n_params && a->n_checks == b->n_checks &&
           memcmp(a->loss, b->loss, 5 * sizeof(double)) == 0 &&
           memcmp(a->grad_norm, b->grad_norm, 5 * sizeof(double)) == 0 &&
           memcmp(a->step_seconds, b->step_seconds, 5 * sizeof(double)) == 0 &&
           memcmp(a->check_steps, b->check_steps, 2 * sizeof(int64_t)) == 0 &&
           memcmp(a->params, b->params, 14 * sizeof(float)) == 0 &&
           memcmp(&a->counters, &b->counters, sizeof a->counters) == 0 &&
           memcmp(&a->facts, &b->facts, sizeof a->facts) == 0 &&
           memcmp(a->mem_peak, b->mem_peak, sizeof a->mem_peak) == 0 &&
           a->mem_total_peak == b->mem_total_peak;
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
    /* header 40 + 5*24 + 2*8 + 14*4 + trailer 192 */
    CHECK(size == 40 + 120 + 16 + 56 + 192);

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
