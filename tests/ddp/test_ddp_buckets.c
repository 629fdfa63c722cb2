/* Bucket planning over any model's tensor table: buckets partition the flat
 * buffer, follow backward order, respect the cap, and become ready at the
 * right unit (a GPT's wte, used by the head first and the embedding last,
 * only at unit 0, the end of the pass). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddp_buckets.h"
#include "gpt_configs.h"
#include "net_desc.h"

static int failures;

#define EXPECT(cond, ...)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                    \
            printf(__VA_ARGS__);                                                           \
            printf("\n");                                                                  \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

/* The model's units; 0, or -1 (reported). */
static int model_for(const char *name, net_desc *d, net_model *m)
{
    char err[256];
    dtb_run_spec spec = {.struct_size = sizeof spec};
    memset(m, 0, sizeof *m);
    if (net_desc_for_name(name, d, err, sizeof err) != 0) {
        EXPECT(0, "%s", err);
        return -1;
    }
    spec.model = d->desc;
    if (net_model_init(&spec, m, err, sizeof err) != 0) {
        EXPECT(0, "%s: %s", name, err);
        return -1;
    }
    return 0;
}

/* Invariants every plan must satisfy, whatever the cap. */
static void check_plan(const net_model *m, int64_t cap_bytes)
{
    const dtb_tensor_desc *td = m->c.desc->tensors;
    ddp_bucket *b = calloc((size_t)m->n_tensors, sizeof *b);
    if (b == NULL) {
        EXPECT(0, "out of memory");
        return;
    }
    int n = ddp_plan_buckets(m, cap_bytes, b);
    EXPECT(n >= 1 && n <= m->n_tensors, "cap %lld: %d buckets", (long long)cap_bytes, n);
    int64_t end = m->n_params; /* buckets run from the end of the buffer down */
    int next_tensor = m->n_tensors - 1;
    for (int i = 0; i < n; i++) {
        EXPECT(b[i].last_tensor == next_tensor, "cap %lld bucket %d starts at tensor %d, want %d",
               (long long)cap_bytes, i, b[i].last_tensor, next_tensor);
        EXPECT(b[i].first + b[i].count == end, "cap %lld bucket %d not contiguous with the next",
               (long long)cap_bytes, i);
        EXPECT(b[i].first == td[b[i].first_tensor].offset, "bucket %d first", i);
        /* Ready with the unit of its lowest tensor, found here from the layer
         * numbers: unit k is the k-th distinct layer value in table order. */
        int unit = 0;
        for (int t = 1; t <= b[i].first_tensor; t++)
            unit += td[t].layer != td[t - 1].layer;
        EXPECT(b[i].ready_unit == unit, "%s bucket %d ready at unit %d, want %d",
               m->c.desc->name, i, b[i].ready_unit, unit);
        int64_t bytes = b[i].count * 4;
        if (cap_bytes > 0 && b[i].first_tensor != b[i].last_tensor)
            EXPECT(bytes <= cap_bytes, "bucket %d of %lld bytes exceeds cap %lld", i,
                   (long long)bytes, (long long)cap_bytes);
        if (i > 0)
            EXPECT(b[i].ready_unit <= b[i - 1].ready_unit, "ready units not descending");
        end = b[i].first;
        next_tensor = b[i].first_tensor - 1;
    }
    EXPECT(end == 0 && next_tensor == -1, "cap %lld: buckets do not cover the buffer",
           (long long)cap_bytes);
    free(b);
}

static void check_all_caps(const char *name)
{
    net_desc d;
    net_model m;
    if (model_for(name, &d, &m) == 0) {
        const int64_t caps[] = {0, 4, 64, 4096, 100000, 1 << 20, 25 << 20, (int64_t)1 << 40};
        for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++)
            check_plan(&m, caps[k]);
    }
    net_model_free(&m);
    net_desc_free(&d);
}

int main(void)
{
    for (size_t c = 0; c < mlp_config_count(); c++)
        check_all_caps(mlp_config_at(c)->name);
    for (size_t c = 0; c < gpt_config_count(); c++)
        check_all_caps(gpt_config_at(c)->name);

    /* mlp-odd (37-53-56-3): tensors W0 1961, b0 53, W1 2968, b1 56, W2 168, b2 3. */
    net_desc d;
    net_model m;
    if (model_for("mlp-odd", &d, &m) == 0) {
        ddp_bucket b[6];
        EXPECT(ddp_plan_buckets(&m, 0, b) == 6, "cap 0: one bucket per tensor");
        EXPECT(ddp_plan_buckets(&m, (int64_t)1 << 30, b) == 1, "huge cap: one bucket");
        /* cap 4096 B = 1024 floats: {b2,W2,b1} = 227, +W1 > 1024 -> new; {W1} 2968 alone;
         * {b0} 53 (+W0 1961 > 1024) ; {W0}. */
        int n = ddp_plan_buckets(&m, 4096, b);
        EXPECT(n == 4, "cap 4096: %d buckets, want 4", n);
        EXPECT(b[0].first_tensor == 3 && b[0].last_tensor == 5 && b[0].count == 227,
               "cap 4096 bucket 0 = b1..b2 (227 values)");
        EXPECT(b[0].ready_unit == 1, "bucket 0 ready after layer 1");
        EXPECT(b[1].first_tensor == 2 && b[1].count == 2968, "cap 4096 bucket 1 = W1");
        EXPECT(b[3].first_tensor == 0 && b[3].count == 1961 && b[3].ready_unit == 0,
               "cap 4096 bucket 3 = W0");
    }
    net_model_free(&m);
    net_desc_free(&d);

    /* gpt-odd (V 67, T 7, L 2, C 35): one bucket per tensor puts wte (tensor
     * 0, 67 x 35) last, ready at unit 0; a huge cap one bucket ready at unit 0. */
    if (model_for("gpt-odd", &d, &m) == 0) {
        ddp_bucket *b = calloc((size_t)m.n_tensors, sizeof *b);
        if (b != NULL) {
            const int n = ddp_plan_buckets(&m, 0, b);
            EXPECT(n == 4 + 12 * 2 && b[n - 1].first_tensor == 0 &&
                       b[n - 1].count == 67 * 35 && b[n - 1].ready_unit == 0,
                   "gpt-odd cap 0: %d buckets, the last wte ready at unit 0", n);
            EXPECT(b[0].ready_unit == 2 && m.n_units == 3 && m.open_unit == 0,
                   "gpt-odd: 3 units, the first bucket ready at block 1 (unit 2), unit 0 open");
            EXPECT(ddp_plan_buckets(&m, (int64_t)1 << 30, b) == 1 && b[0].ready_unit == 0,
                   "gpt-odd huge cap: one bucket, ready at unit 0");
        }
        free(b);
    }
    net_model_free(&m);
    net_desc_free(&d);

    printf("%s: %d failure(s)\n", failures ? "FAIL" : "ok", failures);
    return failures ? 1 : 0;
}
