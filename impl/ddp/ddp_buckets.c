#include "ddp_buckets.h"

int ddp_plan_buckets(const mlp_layout *layout, int64_t cap_bytes, ddp_bucket *out)
{
    const int64_t elem_bytes = (int64_t)sizeof(float);
    int n = 0;
    int t = layout->n_tensors - 1;
    while (t >= 0) {
        /* Open a bucket with tensor t, then pull in lower tensors while they fit. */
        int lo = t;
        int64_t bytes = layout->numel[t] * elem_bytes;
        while (lo > 0 && cap_bytes > 0 && bytes + layout->numel[lo - 1] * elem_bytes <= cap_bytes) {
            lo--;
            bytes += layout->numel[lo] * elem_bytes;
        }
        out[n].first = layout->offset[lo];
        out[n].count = layout->offset[t + 1] - layout->offset[lo];
        out[n].first_tensor = lo;
        out[n].last_tensor = t;
        out[n].ready_layer = lo / 2;
        n++;
        t = lo - 1;
    }
    return n;
}
