/* The state of one rank of reference ZeRO; private to impl/zero. */
#ifndef DTB_IMPL_ZERO_STATE_H
#define DTB_IMPL_ZERO_STATE_H

#include <stdint.h>

#include "backend.h"
#include "comm.h"
#include "net.h"
#include "zero.h"
#include "zero_partition.h"

#define ZERO_BUCKETS 2
#define ZERO_MAX_SLOTS (ZERO_MAX_PREFETCH + 1)
/* A pass visits 2L items: each unit's forward, then each unit's backward
 * (net_model.pass_units). */
#define ZERO_MAX_ITEMS (2 * ZERO_MAX_UNITS)

/* A unit-sized gradient bucket (stages 2, 3): the backward writes one unit's
 * gradient into it (padded unit layout) and its reduce-scatter reads it. */
typedef struct zero_bucket {
    float *grads;              /* [max U_l] */
    int unit;                  /* unit whose reduce-scatter last read it, -1: none */
} zero_bucket;

struct dtb_state {
    const char *who;
    dtb_host_api host;
    dtb_run_spec spec;         /* own copy */
    net_model net;             /* the spec's model: units, pass order, tensor table */
    int stage;                 /* 1, 2, 3 */
    zero_bug bug;
    /* The optimizer's step t of train_step(step) is step - step_base: 0
     * always, except that ZERO_BUG_CKPT_STEP_RESET sets it on load. */
    int64_t step_base;
    int rank, world;
    int bf16;                  /* bf16-mixed recipe */
    int64_t param_bytes;       /* p: 2 under bf16-mixed, else 4 */
    zero_partition part;

    dtb_backend *be;
    net_workspace *ws;
    int64_t max_batch;
    void *x;                   /* host inputs of max_batch samples */
    int32_t *y;                /* host targets [max_batch x positions] */
    int64_t sample_bytes;      /* bytes of x and y, as tracked */
    dtb_comm *comm;            /* training traffic; NULL in a world of one */
    dtb_comm *inspect;         /* get_params gathers, not counted; NULL if N = 1 */

    /* Compute parameters (PARAMS). Stages 1, 2: the full padded layout,
     * fp32 (full) or bf16 (full16). Stage 3: this rank's shard, fp32 (full
     * is unused, shard32 holds it) or bf16 (shard16), plus gather slots. */
    float *full;
    uint16_t *full16;
    float *shard32;
    uint16_t *shard16;
    void *slots[ZERO_MAX_SLOTS];   /* stage 3: [max U_l] of p bytes each */
    void *stale[ZERO_MAX_UNITS];   /* ZERO_BUG_STALE_PARAMS: per-unit copies */
    float *widened;            /* bf16: one unit widened to fp32 (OTHER) */
    int prefetch;              /* d */

    /* Stage 3 gather schedule of the current pass. */
    comm_request gather_req[ZERO_MAX_SLOTS];
    int item_issued;           /* items 0..item_issued-1 issued this pass */
    int item_used;             /* the last item the pass got (-1: none yet) */

    /* Optimizer state over the shard (OPTIM): the fp32 master (bf16-mixed
     * only; under fp32 the compute parameters are the master) and moments. */
    float *master;
    float *opt_a, *opt_b;

    /* Gradients. Stage 1: full padded fp32 (GRADS) reduce-scattered into
     * grad_shard (COMM). Stages 2, 3: grad_shard is the fp32 accumulator
     * (GRADS), fed by the buckets (COMM, reduce-scattered in place). */
    float *grads_full;
    float *grad_shard;
    zero_bucket buckets[ZERO_BUCKETS];
    int next_bucket;
    /* The open unit's own bucket (net_model.open_unit, GPT's unit 0: its
     * gradient gathers both uses of wte while the blocks' backward cycles
     * through the two buckets), sized to that unit (COMM); unused if none. */
    zero_bucket open_bucket;
    zero_bucket *unit_bucket[ZERO_MAX_UNITS]; /* where each unit's gradient went this pass */
    comm_request unit_req[ZERO_MAX_UNITS]; /* each unit's reduce-scatter */
    int reduce_in_backward;    /* stage 1: last micro-batch */

    int late_units[ZERO_MAX_ITEMS]; /* ZERO_BUG_BUCKET_REUSE: units never drained */
    int n_late;

    unit_hooks hooks;
    float *unit_scratch;       /* init and get_params: one unit, fp32 (OTHER) */

    /* Every buffer above, for the memory accounting and the release. */
    struct zero_allocation {
        void *ptr;
        int64_t bytes;
        int category;
    } allocs[32];
    int n_allocs;
};

/* zero_state.c */
int zero_fail(const dtb_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int zero_alloc(dtb_state *s, int64_t bytes, int category, void **out);
void zero_free_all(dtb_state *s);
void zero_stress_pause(const dtb_state *s);

/* zero.c: the parameters from a source of canonical values, unit element
 * ranges [first, first + count) of unit `unit` (the range may straddle
 * tensors; 0 or zero_fail's -1): this rank's master shard of each unit
 * (stage 3, and every stage's master under bf16-mixed) and, stages 1 and 2,
 * the whole compute parameters too, since any rank can read any range: no
 * collective. Padding is left as it is (zero). */
typedef int (*zero_unit_source)(dtb_state *s, void *ctx, int unit, int64_t first, int64_t count,
                                float *out);
int zero_load_params(dtb_state *s, zero_unit_source source, void *ctx);

/* zero_params.c: compute parameters and the layer hooks that serve them. */
void *zero_compute_unit(const dtb_state *s, int unit); /* stages 1, 2: padded unit start */
void *zero_compute_shard(const dtb_state *s, int unit); /* this rank's slice of it */
float *zero_master_shard(const dtb_state *s, int unit); /* fp32 master slice */
int zero_refresh_compute(dtb_state *s); /* after init and every step */
int zero_pass_begin(dtb_state *s);
int zero_pass_end(dtb_state *s);
void zero_param_hooks(dtb_state *s, unit_hooks *h);

/* zero_grads.c: where gradients go and how they are reduced. */
void zero_grad_hooks(dtb_state *s, unit_hooks *h);
int zero_grads_begin_step(dtb_state *s);
int zero_grads_end_micro(dtb_state *s, int last_micro);
int zero_grads_wait_all(dtb_state *s);

#endif
