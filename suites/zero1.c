/*
 * zero1: ZeRO stage 1 (optimizer state partitioned by layer unit, padded to a
 * multiple of N, docs/zero.md) over the shared matrix (conformance.h): every
 * check of the ddp suite, plus per rank communication exactly per theory
 * (L reduce-scatters and L allgathers per step) and model states within
 * (p + g)*Psi + K*Psi/N plus the padding allowance. mlp-odd's units do not
 * divide by 2, 3 or 4, and its 3-element b2 is smaller than 4 ranks.
 */
#include "conformance.h"

const dtb_suite dtb_suite_zero1 = {
    .name = "zero1",
    .description = "ZeRO-1 fp32 and bf16-mixed vs the fp64 oracle, uneven partitions, "
                   "memory and comm vs theory",
    .required_caps = DTB_CAP_ZERO1 | DTB_CAP_GRAD_ACCUM | DTB_CAP_GRAD_CLIP |
                     DTB_CAP_UNEVEN_BATCH,
    .default_impl = "ref-zero1",
    .stage = DTB_STAGE_ZERO1,
    CONFORMANCE_MATRIX,
};
