/*
 * Gradient buckets for DDP: whole tensors grouped in backward order (the
 * last layer's tensors first) into contiguous ranges of the flat canonical
 * gradient buffer, each at most `cap_bytes` unless a single tensor is larger.
 *
 * Because the canonical layout is W_0, b_0, W_1, b_1, ... and backward
 * finishes layers L-1 .. 0, a bucket of tensors t_hi down to t_lo is the
 * range [offset[t_lo], offset[t_hi + 1]) and becomes final once layer
 * t_lo / 2 has finished its backward. Buckets partition [0, n_params).
 */
#ifndef DTB_IMPL_DDP_BUCKETS_H
#define DTB_IMPL_DDP_BUCKETS_H

#include <stdint.h>

#include "model.h"

typedef struct ddp_bucket {
    int64_t first;        /* first element in the flat buffer */
    int64_t count;        /* elements */
    int first_tensor;     /* lowest canonical tensor index in the bucket */
    int last_tensor;      /* highest */
    int ready_layer;      /* the bucket is final once this layer's backward is done */
} ddp_bucket;

/* Plans buckets into out[0..DTB_MAX_TENSORS) and returns how many (>= 1).
 * cap_bytes <= 0 puts every tensor in its own bucket. */
int ddp_plan_buckets(const mlp_layout *layout, int64_t cap_bytes, ddp_bucket *out);

#endif
