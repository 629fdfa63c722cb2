/* The state of one rank of the reference DDP; private to impl/ddp. */
#ifndef DTB_IMPL_DDP_STATE_H
#define DTB_IMPL_DDP_STATE_H

#include "backend.h"
#include "comm.h"
#include "ddp.h"
#include "ddp_buckets.h"
#include "mlp_train.h"
#include "model.h"

struct dtb_state {
    dtb_run_spec spec;
    dtb_host_api host;
    ddp_bug bug;
    mlp_config cfg;
    mlp_layout layout;
    int rank, world;

    dtb_backend *backend;
    dtb_comm *comm;            /* NULL in a world of one: no collectives at all */

    float *params;             /* [n_params] canonical layout */
    float *grads;              /* [n_params] accumulated, then reduced in place */
    float *opt_a;              /* SGD momentum buffer, or AdamW m */
    float *opt_b;              /* AdamW v; NULL for SGD */
    mlp_workspace *workspace;
    int64_t max_local_batch;   /* largest share of one micro-batch */
    float *x;                  /* [max_local_batch x dims[0]] host samples */
    int32_t *y;
    int64_t sample_bytes;      /* bytes of x and y, as tracked */

    int64_t bucket_bytes;
    int n_buckets;
    ddp_bucket buckets[DTB_MAX_TENSORS];
    comm_request requests[DTB_MAX_TENSORS];
    int next_bucket;           /* first bucket not yet launched this step */
    int reduce_in_backward;    /* launch buckets from the backward hooks */
    int failed;                /* a hook failed; its message went to host.error */

    mlp_flat_ctx flat;         /* parameters and gradients by layer ... */
    mlp_hooks flat_hooks;      /* ... which the DDP hooks delegate to */
    mlp_hooks hooks;           /* flat_hooks + bucket launches */
};

/* host->error with a "ref-ddp: " style prefix; returns -1. */
int ddp_fail(dtb_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
