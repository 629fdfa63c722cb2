/*
 * fair-zero1-flat: a correct ZeRO stage 1 over ONE flat partition, built on
 * examples/ddp_simple's kit; with FAIR_FULL_OPTIM_STATE, fair-zero1-fullopt,
 * the same with a full-size optimizer state (a bug the memory check must
 * catch). Neither is shaped like the reference (per-layer units, docs/zero.md).
 *
 * All Psi parameters are one flat array padded to Psi_P = N Psi_s with
 * Psi_s = ceil(Psi / N); rank r owns elements [r Psi_s, (r + 1) Psi_s), of
 * which those at or beyond Psi are padding (zero throughout). One step:
 *   - full parameters and a full, padded fp32 gradient on every rank; the
 *     kit accumulates every micro-batch's share into the gradient;
 *   - ONE MPI_Reduce_scatter_block, in place: grads[0, Psi_s) becomes this
 *     rank's shard of the summed gradient (S = 4 Psi_P bytes);
 *   - the loss sum and the shard's sum of squares summed over ranks (two
 *     allreduces of one double), so every rank clips by the global norm;
 *   - the rank clips its shard and steps the optimizer state it holds for
 *     that shard only (K Psi_s bytes), updating its slice of the parameters;
 *   - ONE MPI_Allgather, in place, of the parameter slices (S = 4 Psi_P).
 * Model states: (p + g) Psi_P + K Psi_s, i.e. the ZeRO-1 formula
 * (p + g) Psi + K Psi / N plus (p + g)(Psi_P - Psi) + K (Psi_P - Psi) / N of
 * padding, which dtb_facts.mem_padding_bytes declares (rounded up).
 *
 * FAIR_FULL_OPTIM_STATE: the optimizer state is allocated, and honestly
 * tracked, for all Psi_P elements while the plugin claims ZeRO-1 (it still
 * uses only its shard's part). Numbers and traffic stay right; the memory
 * is DDP's K Psi, over the stage's formula at N > 1.
 */
#define DDP_SIMPLE_KIT_ONLY
#include "ddp_simple.c"

#ifdef FAIR_FULL_OPTIM_STATE
#define ZERO1_NAME "fair-zero1-fullopt"
#define ZERO1_DESCRIPTION "BROKEN on purpose: flat ZeRO-1 keeping a full-size optimizer state"
#else
#define ZERO1_NAME "fair-zero1-flat"
#define ZERO1_DESCRIPTION "flat ZeRO-1: one padded partition, one reduce-scatter, one allgather"
#endif

/* Psi_s = ceil(Psi / N), the elements per rank. */
static int64_t shard_len(const dtb_state *s)
{
    return (s->n_params + s->world - 1) / s->world;
}

/* The real (non-padding) elements of this rank's shard. */
static int64_t shard_owned(const dtb_state *s)
{
    const int64_t first = s->rank * shard_len(s), left = s->n_params - first;
    return left <= 0 ? 0 : left < shard_len(s) ? left : shard_len(s);
}

static int zero1_create(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out)
{
    dtb_state *s = NULL;
    int rc = kit_create(spec, host, ZERO1_NAME, &s);
    if (rc == 0 && spec->stage != DTB_STAGE_ZERO1)
        rc = kit_fail(s, "stage %d asked; this plugin runs ZeRO-1 only", (int)spec->stage);
    if (rc == 0) {
        const int64_t padded = shard_len(s) * s->world; /* Psi_P */
#ifdef FAIR_FULL_OPTIM_STATE
        rc = kit_alloc_states(s, padded, padded, padded);
#else
        rc = kit_alloc_states(s, padded, padded, shard_len(s));
#endif
    }
    if (rc == 0)
        rc = kit_load_params(s);
    if (rc != 0) {
        kit_destroy(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* grads[0, Psi_s) = this rank's shard of the sum over ranks of grads[0, Psi_P). */
static int zero1_reduce_scatter(dtb_state *s)
{
    if (s->world == 1)
        return 0;
    if (kit_mpi(s, MPI_Reduce_scatter_block(MPI_IN_PLACE, s->grads, (int)shard_len(s), MPI_FLOAT,
                                            MPI_SUM, s->comm),
                "MPI_Reduce_scatter_block of the gradient") != 0)
        return -1;
    kit_count(s, DTB_COLL_REDUCE_SCATTER, s->grads_len * (int64_t)sizeof(float)); /* the input */
    return 0;
}

/* Every rank's parameter slice into everyone's full parameters. */
static int zero1_allgather(dtb_state *s)
{
    if (s->world == 1)
        return 0;
    if (kit_mpi(s, MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, s->params,
                                 (int)shard_len(s), MPI_FLOAT, s->comm),
                "MPI_Allgather of the parameters") != 0)
        return -1;
    kit_count(s, DTB_COLL_ALLGATHER, s->params_len * (int64_t)sizeof(float)); /* the output */
    return 0;
}

static int zero1_train_step(dtb_state *s, int64_t step, dtb_step_report *report)
{
    const int64_t first = s->rank * shard_len(s), owned = shard_owned(s);
    double loss_sum = 0.0, sum_squares = 0.0;
    memset(s->grads, 0, (size_t)s->grads_len * sizeof *s->grads);
    if (kit_accumulate(s, s->params, s->grads, step, &loss_sum) != 0 ||
        zero1_reduce_scatter(s) != 0 ||
        kit_allreduce_scalar(s, &loss_sum, "MPI_Allreduce of the loss") != 0)
        return -1;
    sum_squares = kit_sum_squares(s->grads, owned);
    if (kit_allreduce_scalar(s, &sum_squares, "MPI_Allreduce of the squared norm") != 0)
        return -1;
#ifdef FAIR_FULL_OPTIM_STATE
    const int64_t state_at = first; /* the full-size state, indexed canonically */
#else
    const int64_t state_at = 0;     /* the state holds this shard only */
#endif
    float *b = s->opt_b != NULL ? s->opt_b + state_at : NULL;
    kit_update(s, s->params + first, s->grads, s->opt_a + state_at, b, first, owned, step,
               sqrt(sum_squares), loss_sum, report);
    return zero1_allgather(s);
}

/* Bytes of model states beyond (p + g) Psi + K Psi / N: (p + g)(Psi_P - Psi)
 * + K (Psi_P - Psi) / N, rounded up (the formula itself may be fractional). */
static int64_t zero1_padding_bytes(const dtb_state *s)
{
    const int64_t extra = shard_len(s) * s->world - s->n_params;
    const int64_t K = s->opt_b != NULL ? 8 : 4;
    return 8 * extra + (K * extra + s->world - 1) / s->world;
}

static int zero1_get_facts(dtb_state *s, dtb_facts *out)
{
    const dtb_facts f = {.stage = DTB_STAGE_ZERO1,
                         .precision = DTB_PREC_FP32,
                         .reduce_dtype = DTB_DTYPE_FP32,
                         .param_dtype = DTB_DTYPE_FP32,
                         .bucket_bytes = 0,
                         .prefetch_depth = -1,
                         .mem_padding_bytes = zero1_padding_bytes(s),
                         .mem_working_bytes = 0};
    kit_copy_out(out, &f, sizeof f);
    return 0;
}

/* Checkpoints over the flat partition: rank r stores the real elements of
 * its flat shard [r Psi_s, r Psi_s + owned) of the parameters and of the
 * optimizer state it holds; a load reads all the parameters and the state
 * of its own shard at this world size, whatever partition wrote it. */
static int64_t state_offset(const dtb_state *s)
{
#ifdef FAIR_FULL_OPTIM_STATE
    return s->rank * shard_len(s);
#else
    (void)s;
    return 0;
#endif
}

static int zero1_save_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    return kit_ckpt_range(s, io, 1, KIT_CKPT_PARAMS | KIT_CKPT_STATE, s->rank * shard_len(s),
                          shard_owned(s), state_offset(s));
}

static int zero1_load_checkpoint(dtb_state *s, const dtb_checkpoint_io *io)
{
    if (kit_ckpt_range(s, io, 0, KIT_CKPT_PARAMS, 0, s->n_params, 0) != 0)
        return -1;
    return kit_ckpt_range(s, io, 0, KIT_CKPT_STATE, s->rank * shard_len(s), shard_owned(s),
                          state_offset(s));
}

const dtb_plugin *dtbench_plugin_entry(void);
const dtb_plugin *dtbench_plugin_entry(void)
{
    static const dtb_plugin table = {
        .abi_version = DTB_ABI_VERSION,
        .struct_size = sizeof(dtb_plugin),
        .name = ZERO1_NAME,
        .version = "1.0.0",
        .description = ZERO1_DESCRIPTION,
        .caps = KIT_CAPS | DTB_CAP_ZERO1 | DTB_CAP_CHECKPOINT,
        .create = zero1_create,
        .train_step = zero1_train_step,
        .get_params = kit_get_params,
        .get_counters = kit_get_counters,
        .get_facts = zero1_get_facts,
        .destroy = kit_destroy,
        .get_compute_params = kit_get_compute_params,
        .save_checkpoint = zero1_save_checkpoint,
        .load_checkpoint = zero1_load_checkpoint,
    };
    return &table;
}
