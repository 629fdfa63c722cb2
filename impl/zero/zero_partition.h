/*
 * The ZeRO partition (docs/zero.md, "Partitioning"): the unit is a layer
 * (unit_hooks.h: MLP W_l then b_l; GPT the embeddings with ln_f, then each
 * block), a canonical range of n_l elements, padded at its end to
 * U_l = N*s_l with s_l = ceil(n_l / N). Rank r owns unit elements
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

#include "net.h"

/* Units of a model ZeRO takes (GPT: 127 blocks). */
#define ZERO_MAX_UNITS 128

typedef struct zero_unit {
    int64_t canonical_offset;  /* of the unit's first tensor */
    int64_t numel;             /* n_l */
    int64_t shard;             /* s_l = ceil(n_l / N) */
    int64_t padded;            /* U_l = N * s_l */
    int64_t padded_offset;     /* sum of U_k, k < l */
    int64_t shard_offset;      /* sum of s_k, k < l */
} zero_unit;

typedef struct zero_partition {
    int world;
    int n_units;
    zero_unit units[ZERO_MAX_UNITS];
    int64_t n_params;          /* Psi */
    int64_t padded_total;      /* Psi_P = sum U_l = N * shard_total */
    int64_t shard_total;       /* Psi_s = sum s_l */
    int64_t max_padded;        /* max U_l */
    int64_t max_shard;         /* max s_l */
} zero_partition;

/* world >= 1. 0, or -1 when the model has more than ZERO_MAX_UNITS units. */
int zero_partition_init(const net_model *m, int world, zero_partition *out);

/* Unit elements [*first, *first + *count) that rank `rank` owns and are real
 * parameters (not padding), as offsets within the unit; *count may be 0. */
void zero_owned_range(const zero_partition *p, int unit, int rank, int64_t *first,
                      int64_t *count);

/* Padding elements at the end of unit l (U_l - n_l). */
int64_t zero_unit_padding(const zero_partition *p, int unit);

#endif
