/*
 * zero3: ZeRO stage 3 (parameters too partitioned by layer unit, each unit
 * gathered before its forward and its backward, docs/zero.md) over the
 * shared matrix (conformance.h): every check of the ddp suite, plus per rank
 * communication exactly per theory (M*L reduce-scatters, 2*M*L allgathers
 * per step) and model states within (p + g + K)*Psi/N plus the padding and
 * materialised-layer ((d + 1)*p*max U_l) allowances.
 *
 * Prefetch depth 1 (the reference's default) on every case; depth 0 (gather
 * each unit only when it is needed) on mlp-odd only, whose uneven units are
 * where a gather schedule goes wrong, to keep the suite near a minute.
 */
#include "conformance.h"

static const int32_t zero3_prefetch_depths[] = {1, 0};
static const char *const zero3_depth_models[] = {"mlp-odd"};

const dtb_suite dtb_suite_zero3 = {
    .name = "zero3",
    .description = "ZeRO-3 fp32 and bf16-mixed vs the fp64 oracle, uneven partitions, "
                   "prefetch depths 1 and 0, memory and comm vs theory",
    .required_caps = DTB_CAP_ZERO3 | DTB_CAP_GRAD_ACCUM | DTB_CAP_GRAD_CLIP |
                     DTB_CAP_UNEVEN_BATCH,
    .default_impl = "ref-zero3",
    .stage = DTB_STAGE_ZERO3,
    CONFORMANCE_MATRIX,
    .prefetch_depths = zero3_prefetch_depths,
    .n_prefetch_depths = sizeof zero3_prefetch_depths / sizeof zero3_prefetch_depths[0],
    .extra_depth_models = zero3_depth_models,
    .n_extra_depth_models = sizeof zero3_depth_models / sizeof zero3_depth_models[0],
};
