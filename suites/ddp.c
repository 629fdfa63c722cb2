/*
 * ddp: conformance of plain data parallelism, fp32 and bf16-mixed, against
 * the fp64 oracle, over the shared matrix (conformance.h). A 4 KiB bucket
 * (1024 floats) spreads each model over several buckets, some split across
 * tensors. Communication: allreduce bytes exactly 4*Psi + 8 per step
 * (theory.h); memory (p + g + K)*Psi per rank.
 */
#include "conformance.h"

const dtb_suite dtb_suite_ddp = {
    .name = "ddp",
    .description = "DDP fp32 and bf16-mixed vs the fp64 oracle: uneven batches, "
                   "accumulation, clipping, SGD and AdamW, memory and comm vs theory",
    .required_caps = DTB_CAP_DDP | DTB_CAP_GRAD_ACCUM | DTB_CAP_GRAD_CLIP |
                     DTB_CAP_UNEVEN_BATCH,
    .default_impl = "ref-ddp",
    .stage = DTB_STAGE_DDP,
    CONFORMANCE_MATRIX,
    .bucket_bytes = 4096,
};
