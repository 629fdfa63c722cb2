/* Bucket planning: buckets partition the flat buffer, follow backward order,
 * respect the cap, and become ready at the right layer. */
#include <stdio.h>

#include "ddp_buckets.h"
#include "model.h"

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

/* Invariants every plan must satisfy, whatever the cap. */
static void check_plan(const mlp_layout *L, int64_t cap_bytes)
{
    ddp_bucket b[DTB_MAX_TENSORS];
    int n = ddp_plan_buckets(L, cap_bytes, b);
    EXPECT(n >= 1 && n <= L->n_tensors, "cap %lld: %d buckets", (long long)cap_bytes, n);
    int64_t end = L->n_params; /* buckets run from the end of the buffer down */
    int next_tensor = L->n_tensors - 1;
    for (int i = 0; i < n; i++) {
        EXPECT(b[i].last_tensor == next_tensor, "cap %lld bucket %d starts at tensor %d, want %d",
               (long long)cap_bytes, i, b[i].last_tensor, next_tensor);
        EXPECT(b[i].first + b[i].count == end, "cap %lld bucket %d not contiguous with the next",
               (long long)cap_bytes, i);
        EXPECT(b[i].first == L->offset[b[i].first_tensor], "bucket %d first", i);
        EXPECT(b[i].ready_layer == b[i].first_tensor / 2, "bucket %d ready layer", i);
        int64_t bytes = b[i].count * 4;
        if (cap_bytes > 0 && b[i].first_tensor != b[i].last_tensor)
            EXPECT(bytes <= cap_bytes, "bucket %d of %lld bytes exceeds cap %lld", i,
                   (long long)bytes, (long long)cap_bytes);
        if (i > 0)
            EXPECT(b[i].ready_layer <= b[i - 1].ready_layer, "ready layers not descending");
        end = b[i].first;
        next_tensor = b[i].first_tensor - 1;
    }
    EXPECT(end == 0 && next_tensor == -1, "cap %lld: buckets do not cover the buffer",
           (long long)cap_bytes);
}

int main(void)
{
    for (size_t c = 0; c < mlp_config_count(); c++) {
        mlp_layout L;
        mlp_layout_init(mlp_config_at(c), &L);
        const int64_t caps[] = {0, 4, 64, 4096, 100000, 1 << 20, 25 << 20, (int64_t)1 << 40};
        for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++)
            check_plan(&L, caps[k]);
    }

    /* mlp-odd (37-53-56-3): tensors W0 1961, b0 53, W1 2968, b1 56, W2 168, b2 3. */
    mlp_layout L;
    mlp_layout_init(mlp_config_find("mlp-odd"), &L);
    ddp_bucket b[DTB_MAX_TENSORS];
    EXPECT(ddp_plan_buckets(&L, 0, b) == 6, "cap 0: one bucket per tensor");
    EXPECT(ddp_plan_buckets(&L, (int64_t)1 << 30, b) == 1, "huge cap: one bucket");
    /* cap 4096 B = 1024 floats: {b2,W2,b1} = 227, +W1 > 1024 -> new; {W1} 2968 alone;
     * {b0} 53 (+W0 1961 > 1024) ; {W0}. */
    int n = ddp_plan_buckets(&L, 4096, b);
    EXPECT(n == 4, "cap 4096: %d buckets, want 4", n);
    EXPECT(b[0].first_tensor == 3 && b[0].last_tensor == 5 && b[0].count == 227,
           "cap 4096 bucket 0 = b1..b2 (227 values)");
    EXPECT(b[0].ready_layer == 1, "bucket 0 ready after layer 1");
    EXPECT(b[1].first_tensor == 2 && b[1].count == 2968, "cap 4096 bucket 1 = W1");
    EXPECT(b[3].first_tensor == 0 && b[3].count == 1961 && b[3].ready_layer == 0,
           "cap 4096 bucket 3 = W0");

    printf("%s: %d failure(s)\n", failures ? "FAIL" : "ok", failures);
    return failures ? 1 : 0;
}
