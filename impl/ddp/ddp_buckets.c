#include "ddp_buckets.h"

#include <stdlib.h>

int ddp_plan_buckets(const net_model *m, int64_t cap_bytes, ddp_bucket *out)
{
    const dtb_tensor_desc *td = m->c.desc->tensors;
    const int64_t elem_bytes = (int64_t)sizeof(float);
    int n = 0;
    int t = m->n_tensors - 1;
    while (t >= 0) {
        /* Open a bucket with tensor t, then pull in lower tensors while they fit. */
        int lo = t;
        int64_t bytes = td[t].numel * elem_bytes;
        while (lo > 0 && cap_bytes > 0 && bytes + td[lo - 1].numel * elem_bytes <= cap_bytes) {
            lo--;
            bytes += td[lo].numel * elem_bytes;
        }
        out[n].first = td[lo].offset;
        out[n].count = td[t].offset + td[t].numel - td[lo].offset;
        out[n].first_tensor = lo;
        out[n].last_tensor = t;
        out[n].ready_unit = m->tensor_unit[lo];
        n++;
        t = lo - 1;
    }
    return n;
}

int ddp_count_buckets(const net_model *m, int64_t cap_bytes)
{
    ddp_bucket *b = calloc((size_t)m->n_tensors, sizeof *b);
    const int n = b != NULL ? ddp_plan_buckets(m, cap_bytes, b) : -1;
    free(b);
    return n;
}
