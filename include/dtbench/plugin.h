/*
 * dtbench plugin ABI, version 1.
 *
 * This is the only header a data-parallel training implementation compiles
 * against to be tested by dtbench. It is plain C11 with no dependency beyond
 * <stdint.h> and <stddef.h>: no MPI, CUDA or dtbench-internal types.
 *
 * A plugin is a shared object exporting one symbol,
 *
 *     const dtb_plugin *dtbench_plugin_entry(void);
 *
 * that returns a table (static storage, valid for the life of the process)
 * whose first field is the ABI version the plugin was compiled against.
 * The loader refuses, with a one-line reason, a plugin whose entry symbol is
 * missing, whose abi_version differs from DTB_ABI_VERSION, whose table has a
 * NULL function pointer, or whose capabilities lack what a case needs.
 *
 * Life of one rank of one case (every rank of the world does the same, and
 * every call below except destroy is collective: all ranks call it, in the
 * same order, with the same arguments):
 *
 *     create(spec, host, &state)          build the model, shards, buffers
 *     for step = 1 .. spec->steps:
 *         train_step(state, step, &report)    one optimizer step
 *         if the harness checks this step:
 *             get_params(state, full, n)      full canonical fp32 parameters
 *     get_counters(state, &counters)      communication the plugin issued
 *     get_facts(state, &facts)            what it actually ran
 *     destroy(state)
 *
 * Canonical model (docs/model-spec.md is the normative text): an MLP with
 * n_linear Linear layers of widths dims[0] -> dims[1] -> ... -> dims[n_linear],
 * GELU (tanh form) between them, softmax cross-entropy averaged over the
 * global batch. Parameters in canonical layout are one flat fp32 array of the
 * tensors in this order: W_0, b_0, W_1, b_1, ..., where W_l is row-major
 * [dims[l+1] x dims[l]] (out x in, as torch.nn.Linear) and b_l has dims[l+1]
 * elements. Tensor index t = 2l for W_l and 2l+1 for b_l.
 */
#ifndef DTBENCH_PLUGIN_H
#define DTBENCH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DTB_ABI_VERSION 1u
#define DTB_PLUGIN_ENTRY_SYMBOL "dtbench_plugin_entry"
#define DTB_MAX_LINEAR 8
#define DTB_MAX_TENSORS (2 * DTB_MAX_LINEAR)
#define DTB_NAME_LEN 64

/* ---- capability flags (dtb_plugin.caps) --------------------------------- */
/* Data-parallel schemes. DTB_CAP_SINGLE_DEVICE: runs only world_size 1 with the
 * whole global batch (the baseline). */
#define DTB_CAP_SINGLE_DEVICE (1ull << 0)
#define DTB_CAP_DDP (1ull << 1)
#define DTB_CAP_ZERO1 (1ull << 2)
#define DTB_CAP_ZERO2 (1ull << 3)
#define DTB_CAP_ZERO3 (1ull << 4)
/* Precision recipes. */
#define DTB_CAP_FP32 (1ull << 8)
#define DTB_CAP_BF16_MIXED (1ull << 9)
/* Optimizers and features. */
#define DTB_CAP_SGD_MOMENTUM (1ull << 16)
#define DTB_CAP_ADAMW (1ull << 17)
#define DTB_CAP_GRAD_CLIP (1ull << 18)
#define DTB_CAP_GRAD_ACCUM (1ull << 19)
/* A global batch (or micro-batch) that world_size does not divide. */
#define DTB_CAP_UNEVEN_BATCH (1ull << 20)
/* Devices. */
#define DTB_CAP_CPU (1ull << 32)
#define DTB_CAP_CUDA (1ull << 33)

/* ---- enumerations -------------------------------------------------------- */
typedef enum dtb_stage {
    DTB_STAGE_SINGLE = 0, /* one device, whole batch: the baseline */
    DTB_STAGE_DDP = 1,
    DTB_STAGE_ZERO1 = 2,
    DTB_STAGE_ZERO2 = 3,
    DTB_STAGE_ZERO3 = 4
} dtb_stage;

typedef enum dtb_precision {
    DTB_PREC_FP32 = 0,
    /* bf16 parameters/gradients for compute and communication, fp32 master
     * parameters and optimizer state. */
    DTB_PREC_BF16_MIXED = 1
} dtb_precision;

typedef enum dtb_dtype { DTB_DTYPE_FP32 = 0, DTB_DTYPE_BF16 = 1, DTB_DTYPE_FP64 = 2 } dtb_dtype;

typedef enum dtb_optimizer {
    /* buf = momentum*buf + (g + wd*p)   (buf = g + wd*p on the first step);
     * p -= lr*buf                                            (torch.optim.SGD) */
    DTB_OPT_SGD_MOMENTUM = 0,
    /* p *= 1 - lr*wd;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g;
     * p -= (lr/(1-b1^t)) * m / (sqrt(v)/sqrt(1-b2^t) + eps) (torch.optim.AdamW) */
    DTB_OPT_ADAMW = 1
} dtb_optimizer;

typedef enum dtb_device_kind { DTB_DEVICE_CPU = 0, DTB_DEVICE_CUDA = 1 } dtb_device_kind;

/* Memory categories for the host's accounting hooks. */
typedef enum dtb_mem_category {
    DTB_MEM_PARAMS = 0,     /* parameters, any precision, full or sharded */
    DTB_MEM_GRADS = 1,      /* gradients and gradient accumulators */
    DTB_MEM_OPTIM = 2,      /* optimizer state, incl. fp32 master copies */
    DTB_MEM_ACTIVATIONS = 3,/* activations and their gradients */
    DTB_MEM_COMM = 4,       /* communication buffers (buckets, gathers) */
    DTB_MEM_OTHER = 5,
    DTB_MEM_CATEGORY_COUNT = 6
} dtb_mem_category;

/* Collective kinds for the communication counters. */
typedef enum dtb_collective {
    DTB_COLL_ALLREDUCE = 0,
    DTB_COLL_REDUCE_SCATTER = 1,
    DTB_COLL_ALLGATHER = 2,
    DTB_COLL_BROADCAST = 3,
    DTB_COLL_REDUCE = 4,
    DTB_COLL_BARRIER = 5,
    DTB_COLL_KIND_COUNT = 6
} dtb_collective;

/* ---- what the harness gives the plugin ---------------------------------- */
typedef struct dtb_run_spec {
    uint32_t struct_size; /* sizeof(dtb_run_spec) as the harness built it */

    /* model */
    char model_name[DTB_NAME_LEN];
    int32_t n_linear;                   /* number of Linear layers */
    int64_t dims[DTB_MAX_LINEAR + 1];   /* dims[0] inputs .. dims[n_linear] classes */
    int64_t n_params;                   /* total parameter count (Psi) */

    /* optimizer */
    int32_t optimizer;                  /* dtb_optimizer */
    double lr;
    double momentum;                    /* SGD */
    double beta1, beta2, eps;           /* AdamW */
    double weight_decay;
    /* Global-norm clipping of the averaged gradient:
     * g *= min(1, clip_norm / (||g||_2 + 1e-6)); 0 disables it. */
    double clip_norm;

    /* precision and data */
    int32_t precision;                  /* dtb_precision */
    int64_t global_batch;               /* samples per optimizer step, all ranks */
    int32_t micro_batches;              /* gradient accumulation steps per optimizer step */
    int64_t steps;
    uint64_t seed;

    /* world */
    int32_t rank, world_size;
    int32_t local_rank, local_size;
    /* MPI_COMM_WORLD of the rank world as a Fortran handle (MPI_Comm_c2f);
     * plugins that use MPI convert it with MPI_Comm_f2c. MPI is initialised by
     * the harness before create and finalised after destroy. */
    int64_t mpi_comm_fortran;
    int32_t device_kind;                /* dtb_device_kind */
    int32_t device_index;               /* CUDA ordinal, -1 on the CPU */

    /* tuning hints; 0 means the plugin's default */
    int64_t bucket_bytes;               /* gradient bucket capacity */
    int32_t prefetch_depth;             /* ZeRO-3 layers gathered ahead; -1 default */

    /* stress mode: sleep this many microseconds before every gather,
     * reduce-scatter and optimizer step (0 = off) to shake out races. */
    int32_t stress_delay_us;
} dtb_run_spec;

/* Deterministic data, init and accounting, provided by the harness. Every
 * function is thread-compatible and pure in its inputs (except accounting). */
typedef struct dtb_host_api {
    void *ctx;
    /* Samples first .. first+count-1 of the global batch of `step` (steps
     * count from 1): x is [count x dims[0]] row-major, y holds class indices.
     * Returns 0, or non-zero on a bad range. */
    int (*sample_batch)(void *ctx, int64_t step, int64_t first, int64_t count, float *x, int32_t *y);
    /* Initial values of elements first .. first+count-1 of tensor `tensor`
     * (canonical index), any range, any rank. Returns 0 or non-zero. */
    int (*init_params)(void *ctx, int32_t tensor, int64_t first, int64_t count, float *out);
    /* Memory accounting: bytes of a category allocated (+) or freed (-). The
     * harness keeps the current and peak value per category and in total. */
    void (*mem_track)(void *ctx, int32_t category, int64_t delta_bytes);
    /* Reports a human-readable error; the call that failed then returns non-zero. */
    void (*error)(void *ctx, const char *message);
} dtb_host_api;

/* ---- what the plugin gives back ----------------------------------------- */
typedef struct dtb_step_report {
    double loss;            /* mean loss over the global batch, same on every rank */
    double grad_norm;       /* global L2 norm of the averaged gradient before clipping;
                               negative if the plugin does not compute one */
} dtb_step_report;

typedef struct dtb_counters {
    /* Per rank, since create: collective calls issued, and their sizes in
     * bytes as nccl-tests states a collective's size S: allreduce and
     * broadcast/reduce the buffer, reduce-scatter the whole input (N times
     * the output), allgather the whole output (N times the input). The
     * harness turns S into bus bytes with nccl-tests' factors: allreduce
     * 2(N-1)/N, reduce-scatter and allgather (N-1)/N, broadcast/reduce 1.
     * A world of one rank must issue no collectives at all. */
    uint64_t calls[DTB_COLL_KIND_COUNT];
    uint64_t bytes[DTB_COLL_KIND_COUNT];
} dtb_counters;

/* What the plugin actually ran, recorded and checked by the harness so that
 * no implementation downgrades silently. */
typedef struct dtb_facts {
    int32_t stage;             /* dtb_stage actually run */
    int32_t precision;         /* dtb_precision actually run */
    int32_t reduce_dtype;      /* dtb_dtype of the gradient reduction arithmetic */
    int32_t param_dtype;       /* dtb_dtype of the compute parameters */
    int64_t bucket_bytes;      /* bucket capacity used, 0 if not bucketed */
    int32_t prefetch_depth;    /* ZeRO-3 prefetch depth used, -1 if n/a */
} dtb_facts;

typedef struct dtb_state dtb_state; /* opaque to the harness */

typedef struct dtb_plugin {
    uint32_t abi_version;      /* DTB_ABI_VERSION the plugin was built against */
    const char *name;          /* short unique name, e.g. "ref-ddp" */
    const char *version;       /* the implementation's own version string */
    const char *description;   /* one line */
    uint64_t caps;             /* DTB_CAP_* */

    /* All return 0 on success; on failure they call host->error first. */
    int (*create)(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out);
    int (*train_step)(dtb_state *state, int64_t step, dtb_step_report *report);
    /* Full parameters in canonical layout, fp32 (masters under bf16-mixed);
     * n must equal spec->n_params. Identical on every rank. */
    int (*get_params)(dtb_state *state, float *out, int64_t n);
    int (*get_counters)(dtb_state *state, dtb_counters *out);
    int (*get_facts)(dtb_state *state, dtb_facts *out);
    void (*destroy)(dtb_state *state);
} dtb_plugin;

typedef const dtb_plugin *(*dtb_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* DTBENCH_PLUGIN_H */
