/*
 * Gradient buckets for DDP: whole tensors grouped in backward order (the
 * last layer's tensors first) into contiguous ranges of the flat canonical
 * gradient buffer, each at most `cap_bytes` unless a single tensor is larger.
 *
 * Because every pass makes units final in descending order (unit_hooks.h)
 * and units are runs of adjacent tensors, a bucket of tensors t_hi down to
 * t_lo is the range [offset(t_lo), end(t_hi)) and becomes final once the
 * unit of t_lo is (GPT: the bucket holding wte only at the end of the pass,
 * after both its uses). Buckets partition [0, n_params).
 */
#ifndef DTB_IMPL_DDP_BUCKETS_H
#define DTB_IMPL_DDP_BUCKETS_H

#include <stdint.h>

#include "net.h"

typedef struct ddp_bucket {
    int64_t first;        /* first element in the flat buffer */
    int64_t count;        /* elements */
    int first_tensor;     /* lowest canonical tensor index in the bucket */
    int last_tensor;      /* highest */
    int ready_unit;       /* the bucket is final once this unit's gradient is */
} ddp_bucket;

/* Plans buckets into out[0 .. m->n_tensors) and returns how many (>= 1).
 * cap_bytes <= 0 puts every tensor in its own bucket. */
int ddp_plan_buckets(const net_model *m, int64_t cap_bytes, ddp_bucket *out);
/* How many buckets ddp_plan_buckets plans; -1 out of memory. */
int ddp_count_buckets(const net_model *m, int64_t cap_bytes);

#endif
