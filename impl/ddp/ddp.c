/* Reference DDP: creation, queries and teardown (the step is ddp_step.c). */
#include <stdlib.h>
#include <string.h>

#include "ddp_state.h"

int ddp_create(const dtb_run_spec *spec, const dtb_host_api *host, const char *name, ddp_bug bug,
               dtb_state **out)
{
    *out = NULL;
    dtb_state *s = calloc(1, sizeof *s);
    if (s == NULL) {
        replica_fail(&(replica){.who = name, .host = *host}, "out of memory for the plugin state");
        return -1;
    }
    s->bug = bug;
    s->rank = spec->rank;
    s->world = spec->world_size;
    int64_t share = spec->micro_batches >= 1 && spec->world_size >= 1
                        ? split_max_rank_share(spec->global_batch, spec->micro_batches,
                                               spec->world_size)
                        : 0;
    if (bug == DDP_BUG_GLOBAL_WORKSPACE)
        share = spec->global_batch;
    int rc = replica_init(&s->r, name, spec, host, share);
    if (rc == 0 && spec->stage != DTB_STAGE_DDP)
        rc = replica_fail(&s->r, "asked for stage %d; this plugin runs DDP (%d) only",
                          (int)spec->stage, (int)DTB_STAGE_DDP);
    if (rc == 0 && s->world > 1) {
        char err[256];
        rc = comm_create(spec->mpi_comm_fortran, &s->comm, err, sizeof err);
        if (rc != 0)
            replica_fail(&s->r, "%s", err);
    }
    if (rc != 0) {
        ddp_destroy(s);
        return -1;
    }
    s->bucket_bytes = spec->bucket_bytes > 0 ? spec->bucket_bytes : DDP_DEFAULT_BUCKET_BYTES;
    const size_t most = (size_t)s->r.net.n_tensors;
    s->buckets = calloc(most, sizeof *s->buckets);
    s->requests = calloc(most, sizeof *s->requests);
    if (s->buckets == NULL || s->requests == NULL) {
        replica_fail(&s->r, "out of memory for %zu buckets", most);
        ddp_destroy(s);
        return -1;
    }
    s->n_buckets = ddp_plan_buckets(&s->r.net, s->bucket_bytes, s->buckets);
    ddp_build_hooks(s);
    *out = s;
    return 0;
}

int ddp_get_params(dtb_state *s, float *out, int64_t n)
{
    return replica_get_params(&s->r, out, n);
}

int ddp_get_compute_params(dtb_state *s, void *out, int64_t n, int32_t *dtype)
{
    return replica_get_compute_params(&s->r, out, n, dtype);
}

int ddp_save_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    const int rc = replica_save_checkpoint(&s->r, io, s->rank, s->world);
    if (rc == 0 && s->bug == DDP_BUG_CKPT_SCRATCH && s->rank > 0)
        memset(s->r.opt_a, 0, (size_t)s->r.net.n_params * sizeof *s->r.opt_a);
    return rc;
}

int ddp_load_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    return replica_load_checkpoint(&s->r, io);
}

int ddp_get_counters(dtb_state *s, dtb_counters *out)
{
    memset(out, 0, sizeof *out);
    if (s->comm)
        comm_counters(s->comm, out);
    return 0;
}

int ddp_get_facts(dtb_state *s, dtb_facts *out)
{
    /* Gradients are reduced in fp32 under both recipes (docs/zero.md). */
    const int bf16 = s->r.bf16_mixed;
    *out = (dtb_facts){.struct_size = out->struct_size,
                       .stage = DTB_STAGE_DDP,
                       .precision = bf16 ? DTB_PREC_BF16_MIXED : DTB_PREC_FP32,
                       .reduce_dtype = DTB_DTYPE_FP32,
                       .param_dtype = bf16 ? DTB_DTYPE_BF16 : DTB_DTYPE_FP32,
                       .bucket_bytes = s->bucket_bytes, .prefetch_depth = -1,
                       .mem_padding_bytes = 0, .mem_working_bytes = 0};
    return 0;
}

void ddp_destroy(dtb_state *s)
{
    if (s == NULL)
        return;
    if (s->comm) {
        /* Never leave a request in flight on a freed buffer. */
        for (int b = 0; b < s->n_buckets; b++)
            comm_wait(s->comm, &s->requests[b]);
        comm_destroy(s->comm);
    }
    replica_release(&s->r);
    free(s->buckets);
    free(s->requests);
    free(s);
}
