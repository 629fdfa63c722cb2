/*
 * zero2: ZeRO stage 2 (optimizer state and gradients partitioned by layer
 * unit; gradients reduce-scattered every micro-batch, docs/zero.md) over the
 * shared matrix (conformance.h): every check of the ddp suite, plus per rank
 * communication exactly per theory (M*L reduce-scatters, L allgathers per
 * step) and model states within p*Psi + (g + K)*Psi/N plus the padding
 * allowance.
 */
#include "conformance.h"

const dtb_suite dtb_suite_zero2 = {
    .name = "zero2",
    .description = "ZeRO-2 fp32 and bf16-mixed vs the fp64 oracle, uneven partitions, "
                   "memory and comm vs theory",
    .required_caps = DTB_CAP_ZERO2 | DTB_CAP_GRAD_ACCUM | DTB_CAP_GRAD_CLIP |
                     DTB_CAP_UNEVEN_BATCH,
    .default_impl = "ref-zero2",
    .stage = DTB_STAGE_ZERO2,
    CONFORMANCE_MATRIX,
};
