/*
 * The ZeRO partition (docs/zero.md, "Partitioning"): the unit is a layer,
 * the canonical range W_l then b_l of n_l = out*in + out elements, padded at
 * its end to U_l = N*s_l with s_l = ceil(n_l / N). Rank r owns unit elements
 * [r*s_l, (r+1)*s_l); those at or beyond n_l are padding (always zero).
 *
 * Three layouts use it:
 *   canonical  unit l at layout offset of W_l, n_l elements, no padding;
 *   padded     unit l at padded_offset = sum_{k<l} U_k, U_l elements
 *              (full-size buffers of ZeRO-1/2, the operands of collectives);
 *   shard      unit l at shard_offset = sum_{k<l} s_k, s_l elements
 *              (this rank's slice of every unit, concatenated).
 */
#ifndef DTB_IMPL_ZERO_PARTITION_H
#define DTB_IMPL_ZERO_PARTITION_H

#include <stdint.h>

#include "model.h"

typedef struct zero_unit {
    int64_t canonical_offset;  /* of W_l */
    int64_t numel;             /* n_l */
    int64_t weight_numel;      /* elements of W_l (b_l follows) */
    int64_t shard;             /* s_l = ceil(n_l / N) */
    int64_t padded;            /* U_l = N * s_l */
    int64_t padded_offset;     /* sum of U_k, k < l */
    int64_t shard_offset;      /* sum of s_k, k < l */
} zero_unit;

typedef struct zero_partition {
    int world;
    int n_units;
    zero_unit units[DTB_MAX_LINEAR];
    int64_t n_params;          /* Psi */
    int64_t padded_total;      /* Psi_P = sum U_l = N * shard_total */
    int64_t shard_total;       /* Psi_s = sum s_l */
    int64_t max_padded;        /* max U_l */
    int64_t max_shard;         /* max s_l */
} zero_partition;

/* world >= 1; the layout's tensors come in (W_l, b_l) pairs. */
void zero_partition_init(const mlp_layout *layout, int world, zero_partition *out);

/* Unit elements [*first, *first + *count) that rank `rank` owns and are real
 * parameters (not padding), as offsets within the unit; *count may be 0. */
void zero_owned_range(const zero_partition *p, int unit, int rank, int64_t *first,
                      int64_t *count);

/* Padding elements at the end of unit l (U_l - n_l). */
int64_t zero_unit_padding(const zero_partition *p, int unit);

#endif
