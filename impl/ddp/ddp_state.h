/* The state of one rank of the reference DDP; private to impl/ddp. */
#ifndef DTB_IMPL_DDP_STATE_H
#define DTB_IMPL_DDP_STATE_H

#include "comm.h"
#include "ddp.h"
#include "ddp_buckets.h"
#include "replica.h"

struct dtb_state {
    replica r;                 /* full params, grads, optimizer state, activations
                                  (and bf16 compute params under bf16-mixed) */
    ddp_bug bug;
    int rank, world;
    dtb_comm *comm;            /* NULL in a world of one: no collectives at all */

    int64_t bucket_bytes;
    int n_buckets;
    ddp_bucket *buckets;       /* [n_tensors] at most */
    comm_request *requests;    /* one per bucket */
    int next_bucket;           /* first bucket not yet launched this step */
    int reduce_in_backward;    /* launch buckets from the backward hooks */
    unit_hooks hooks;          /* the replica's unit hooks + bucket launches (ctx = this) */
};

void ddp_build_hooks(dtb_state *s); /* ddp_step.c */

#endif
