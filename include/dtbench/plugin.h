/*
 * dtbench plugin ABI, version 2.
 *
 * This is the only header a data-parallel training implementation compiles
 * against to be tested by dtbench. It is plain C11 with no dependency beyond
 * <stdint.h> and <stddef.h>: no MPI, CUDA or dtbench-internal types.
 * docs/plugins.md is the guide (life cycle, every field, the checks each
 * suite applies, counter conventions, an example plugin).
 *
 * A plugin is a shared object exporting one symbol,
 *
 *     const dtb_plugin *dtbench_plugin_entry(void);
 *
 * that returns a table (static storage, valid for the life of the process)
 * whose first field is the ABI version the plugin was compiled against.
 * The loader refuses, with a one-line reason, a plugin whose entry symbol is
 * missing, whose abi_version is not DTB_ABI_VERSION (a version 1 plugin is
 * told what changed), whose table is shorter than version 2's, whose
 * required functions are NULL, or whose capabilities lack what a case needs.
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
 *             get_compute_params(...)         optional: the compute copy
 *     get_counters(state, &counters)      communication the plugin issued
 *     get_facts(state, &facts)            what it actually ran
 *     destroy(state)
 *
 * The harness measures what it can itself: the MPI traffic of create and
 * train_step (through the MPI profiling interface, on any communicator;
 * get_params and get_compute_params are not counted) and the process's
 * memory high-water mark; reported figures are cross-checked against them.
 *
 * ---- struct_size: how structs grow -----------------------------------------
 * Every struct that crosses the ABI starts with uint32_t struct_size.
 *  - Structs the harness fills (dtb_run_spec, dtb_model_desc, dtb_host_api)
 *    carry sizeof as the harness built them. A plugin reads a field only if
 *    it lies wholly within struct_size (offsetof(T, f) + sizeof f <=
 *    struct_size); a field beyond is absent and has its documented default.
 *  - Structs the plugin fills (dtb_step_report, dtb_counters, dtb_facts)
 *    arrive zeroed with struct_size = sizeof as the harness knows them. A
 *    plugin may fill sizeof as it was built (zeroing struct_size too, with
 *    `*out = (dtb_facts){...}`) when struct_size is at least that, and
 *    otherwise writes only the fields within struct_size; the harness reads
 *    back what it passed, whatever struct_size says on return.
 *  - dtb_plugin.struct_size is sizeof(dtb_plugin) as the plugin was built;
 *    the harness uses a function pointer only if it lies within it.
 * Within one ABI version fields are only ever appended, never moved or
 * resized; anything else is a new abi_version.
 *
 * ---- canonical model --------------------------------------------------------
 * The model is described by dtb_model_desc (docs/model-spec.md is the
 * normative text for each kind): a kind, its hyper-parameters, and a table
 * of named tensors with shapes and offsets into one flat fp32 array, the
 * canonical layout in which get_params returns parameters and the host API
 * hands out initial values. A tensor used twice (a tied weight) is listed
 * once, flagged DTB_TENSOR_TIED: its gradient is the sum of both uses.
 */
#ifndef DTBENCH_PLUGIN_H
#define DTBENCH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DTB_ABI_VERSION 2u
#define DTB_PLUGIN_ENTRY_SYMBOL "dtbench_plugin_entry"
#define DTB_NAME_LEN 64
#define DTB_MAX_DIMS 4

/* ---- capability flags (dtb_plugin.caps) --------------------------------- */
/* Data-parallel schemes. DTB_CAP_SINGLE_DEVICE: runs only world_size 1 with the
 * whole global batch (the baseline). A plugin may declare several stages and
 * runs the one dtb_run_spec.stage asks for. */
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
/* Canonical checkpoints: save_checkpoint and load_checkpoint are provided
 * and load a checkpoint written at any world size by any stage. */
#define DTB_CAP_CHECKPOINT (1ull << 21)
/* Model kinds (dtb_model_kind). */
#define DTB_CAP_MODEL_MLP (1ull << 24)
#define DTB_CAP_MODEL_GPT (1ull << 25)
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
    /* bf16 compute parameters (each the round-to-nearest-even bf16 of its
     * fp32 master) for forward and backward and their gathers, fp32 master
     * parameters, optimizer state, gradient accumulation and reduction. */
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

/* Communication kinds for the counters. */
typedef enum dtb_collective {
    DTB_COLL_ALLREDUCE = 0,
    DTB_COLL_REDUCE_SCATTER = 1,
    DTB_COLL_ALLGATHER = 2,
    DTB_COLL_BROADCAST = 3,
    DTB_COLL_REDUCE = 4,
    DTB_COLL_BARRIER = 5,
    /* Point-to-point: the bytes this rank sent (send, isend, sendrecv's send
     * side); a ring allreduce built from them counts as what it sends. */
    DTB_COLL_P2P = 6,
    DTB_COLL_KIND_COUNT = 7
} dtb_collective;

/* ---- the model ------------------------------------------------------------ */
typedef enum dtb_model_kind {
    /* Linear layers dims[0] -> dims[1] -> ... -> dims[n_layers], GELU (tanh
     * form) between them, softmax cross-entropy averaged over the global
     * batch. Tensors W_0, b_0, W_1, b_1, ...: W_l is [dims[l+1] x dims[l]]
     * row-major (out x in, as torch.nn.Linear), b_l has dims[l+1] elements.
     * Inputs: float [count x dims[0]]; targets: int32 class per sample. */
    DTB_MODEL_MLP = 1,
    /* GPT-2 with a tied output head (docs/model-spec.md section 16).
     * Inputs: int32 token ids [count x context]; targets: int32 next tokens
     * [count x context]; the loss is the mean over every position. Tensors
     * wte, wpe, ln_f.* (layer -1), then each block's 12 (layer l); wte is
     * DTB_TENSOR_TIED, the 2-D tensors DTB_TENSOR_DECAY. */
    DTB_MODEL_GPT = 2
} dtb_model_kind;

/* dtb_tensor_desc.flags */
#define DTB_TENSOR_DECAY (1u << 0) /* weight decay applies to it */
#define DTB_TENSOR_TIED (1u << 1)  /* used twice; its gradient sums both uses */

typedef struct dtb_tensor_desc {
    char name[DTB_NAME_LEN];   /* "W0", "b0"; GPT: "wte", "h3.attn.c_attn.weight" */
    int32_t ndim;              /* 1..DTB_MAX_DIMS */
    int64_t shape[DTB_MAX_DIMS];
    int64_t numel;             /* product of shape[0..ndim-1] */
    int64_t offset;            /* first element in the canonical flat array */
    /* The layer or block it belongs to (MLP: l for W_l and b_l; GPT: the
     * block, -1 for embeddings and the final LayerNorm). Tensors of one
     * layer are adjacent in the table. */
    int32_t layer;
    uint32_t flags;            /* DTB_TENSOR_* */
} dtb_tensor_desc;

typedef struct dtb_model_desc {
    uint32_t struct_size;
    int32_t kind;              /* dtb_model_kind */
    char name[DTB_NAME_LEN];   /* "mlp-odd", "mlp-w4096", ... */
    int64_t n_params;          /* Psi: the canonical array's length */
    /* The tensors in canonical order: offsets ascend, each tensor starts where
     * the previous one ends, the first at 0, the last ends at n_params. */
    int32_t n_tensors;
    const dtb_tensor_desc *tensors;
    int32_t n_layers;          /* distinct dtb_tensor_desc.layer values >= 0 */
    /* DTB_MODEL_MLP: dims[0..n_layers] (inputs, hidden widths, classes). */
    const int64_t *dims;
    /* DTB_MODEL_GPT (0 for other kinds). */
    int64_t vocab, context, n_head, d_model;
    double layer_norm_eps;
} dtb_model_desc;

/* ---- what the harness gives the plugin ---------------------------------- */
typedef struct dtb_run_spec {
    uint32_t struct_size;      /* sizeof(dtb_run_spec) as the harness built it */

    const dtb_model_desc *model; /* valid until destroy returns */

    /* what to run: the plugin runs exactly this, or fails create */
    int32_t stage;             /* dtb_stage */
    int32_t precision;         /* dtb_precision */

    /* optimizer */
    int32_t optimizer;         /* dtb_optimizer */
    double lr;
    double momentum;           /* SGD */
    double beta1, beta2, eps;  /* AdamW */
    double weight_decay;       /* on tensors flagged DTB_TENSOR_DECAY */
    /* Global-norm clipping of the averaged gradient:
     * g *= min(1, clip_norm / (||g||_2 + 1e-6)); 0 disables it. */
    double clip_norm;

    /* data */
    int64_t global_batch;      /* samples per optimizer step, all ranks */
    int32_t micro_batches;     /* gradient accumulation steps per optimizer step */
    int64_t steps;
    uint64_t seed;

    /* world */
    int32_t rank, world_size;
    int32_t local_rank, local_size;
    /* MPI_COMM_WORLD of the rank world as a Fortran handle (MPI_Comm_c2f);
     * plugins that use MPI convert it with MPI_Comm_f2c. MPI is initialised by
     * the harness before create and finalised after destroy. */
    int64_t mpi_comm_fortran;
    int32_t device_kind;       /* dtb_device_kind */
    int32_t device_index;      /* CUDA ordinal, -1 on the CPU */

    /* tuning hints; 0 means the plugin's default */
    int64_t bucket_bytes;      /* gradient bucket capacity */
    int32_t prefetch_depth;    /* ZeRO-3 layers gathered ahead; -1 default */

    /* stress mode: sleep this many microseconds before every gather,
     * reduce-scatter and optimizer step (0 = off) to shake out races. */
    int32_t stress_delay_us;
} dtb_run_spec;

/* Deterministic data, init and accounting, provided by the harness. Every
 * function is thread-compatible and pure in its inputs (except accounting). */
typedef struct dtb_host_api {
    uint32_t struct_size;
    void *ctx;
    /* Samples first .. first+count-1 of the global batch of `step` (steps
     * count from 1), laid out as dtb_model_kind says (MLP: inputs float
     * [count x dims[0]] row-major, targets one int32 class per sample).
     * inputs or targets may be NULL to skip them. Returns 0, or non-zero on
     * a bad range. */
    int (*sample_batch)(void *ctx, int64_t step, int64_t first, int64_t count, void *inputs,
                        int32_t *targets);
    /* Initial values of elements first .. first+count-1 of tensor `tensor`
     * (index into dtb_model_desc.tensors), any range, any rank. 0 or non-zero. */
    int (*init_params)(void *ctx, int32_t tensor, int64_t first, int64_t count, float *out);
    /* Memory accounting: bytes of a category allocated (+) or freed (-). The
     * harness keeps the current and peak value per category and in total. */
    void (*mem_track)(void *ctx, int32_t category, int64_t delta_bytes);
    /* Reports a human-readable error; the call that failed then returns non-zero. */
    void (*error)(void *ctx, const char *message);
} dtb_host_api;

/* ---- what the plugin gives back ----------------------------------------- */
typedef struct dtb_step_report {
    uint32_t struct_size;
    double loss;            /* mean loss over the global batch, same on every rank */
    double grad_norm;       /* global L2 norm of the averaged gradient before clipping;
                               negative if the plugin does not compute one */
    /* The factor the averaged gradient was multiplied by before the update:
     * min(1, clip_norm / (grad_norm + 1e-6)), 1 when clipping is off;
     * negative if the plugin does not report it. */
    double clip_coef;
} dtb_step_report;

typedef struct dtb_counters {
    uint32_t struct_size;
    /* Per rank, since create, of create and train_step only (never of
     * get_params or get_compute_params): calls issued, and their sizes in
     * bytes as nccl-tests states a collective's size S: allreduce and
     * broadcast/reduce the buffer, reduce-scatter the whole input (N times
     * the output), allgather the whole output (N times the input), P2P the
     * bytes sent. The harness turns S into bus bytes with nccl-tests'
     * factors: allreduce 2(N-1)/N, reduce-scatter and allgather (N-1)/N,
     * broadcast/reduce/P2P 1. A world of one rank must communicate nothing. */
    uint64_t calls[DTB_COLL_KIND_COUNT];
    uint64_t bytes[DTB_COLL_KIND_COUNT];
} dtb_counters;

/* What the plugin actually ran, recorded and checked by the harness so that
 * no implementation downgrades silently, and the memory it claims beyond
 * the stage's formula (docs/plugins.md: the suites bound each claim). */
typedef struct dtb_facts {
    uint32_t struct_size;
    int32_t stage;             /* dtb_stage actually run */
    int32_t precision;         /* dtb_precision actually run */
    int32_t reduce_dtype;      /* dtb_dtype of the gradient reduction arithmetic */
    int32_t param_dtype;       /* dtb_dtype of the compute parameters */
    int64_t bucket_bytes;      /* bucket capacity used, 0 if not bucketed */
    int32_t prefetch_depth;    /* ZeRO-3 prefetch depth used, -1 if n/a */
    /* Peak bytes of model states (params + grads + optim) per rank beyond the
     * stage's formula, by cause: padding and alignment of shards and flat
     * buffers; ZeRO-3's full parameters materialised at once. */
    int64_t mem_padding_bytes;
    int64_t mem_working_bytes;
} dtb_facts;

/* ---- canonical checkpoints (docs/checkpoint.md) -------------------------- */
/* The arrays of a checkpoint, each n_params fp32 values in canonical layout.
 * The recipe's optimizer says which exist: SGD params and momentum; AdamW
 * params, exp_avg and exp_avg_sq (torch.optim's state names and meaning:
 * momentum_buffer is buf, exp_avg m, exp_avg_sq v, never bias-corrected). */
typedef enum dtb_ckpt_array {
    DTB_CKPT_PARAMS = 0,       /* fp32 parameters; the fp32 masters under bf16-mixed */
    DTB_CKPT_MOMENTUM = 1,     /* SGD momentum buffer */
    DTB_CKPT_EXP_AVG = 2,      /* AdamW first moment m */
    DTB_CKPT_EXP_AVG_SQ = 3,   /* AdamW second moment v */
    DTB_CKPT_ARRAY_COUNT = 4
} dtb_ckpt_array;

/* What save_checkpoint and load_checkpoint get. The harness owns the files
 * (their format, atomic commit, checksums); the plugin moves values. */
typedef struct dtb_checkpoint_io {
    uint32_t struct_size;
    void *ctx;
    /* Optimizer steps the state has taken: on save the step train_step just
     * finished, on load the step the checkpoint was taken after. After a
     * load the next call is train_step(step + 1), and the optimizer goes on
     * from step count `step` (AdamW's bias correction uses step + 1). */
    int64_t step;
    /* Save: stores elements first .. first+count-1 of `array` (dtb_ckpt_array
     * of the recipe's optimizer). Every element of every array must be
     * stored by some rank; several ranks may store the same element (with
     * the same value). Any rank, any range, any number of calls. */
    int (*write)(void *ctx, int32_t array, int64_t first, int64_t count, const float *values);
    /* Load: elements first .. first+count-1 of `array` as saved, whatever
     * world size and stage saved them. Any rank, any range. */
    int (*read)(void *ctx, int32_t array, int64_t first, int64_t count, float *out);
} dtb_checkpoint_io;

typedef struct dtb_state dtb_state; /* opaque to the harness */

typedef struct dtb_plugin {
    uint32_t abi_version;      /* DTB_ABI_VERSION the plugin was built against */
    uint32_t struct_size;      /* sizeof(dtb_plugin) as the plugin was built */
    const char *name;          /* short unique name, e.g. "ref-ddp" */
    const char *version;       /* the implementation's own version string */
    const char *description;   /* one line */
    uint64_t caps;             /* DTB_CAP_* */

    /* Required. All return 0 on success; on failure they call host->error first. */
    int (*create)(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out);
    int (*train_step)(dtb_state *state, int64_t step, dtb_step_report *report);
    /* Full parameters in canonical layout, fp32 (masters under bf16-mixed);
     * n must equal spec->model->n_params. Identical on every rank. */
    int (*get_params)(dtb_state *state, float *out, int64_t n);
    int (*get_counters)(dtb_state *state, dtb_counters *out);
    int (*get_facts)(dtb_state *state, dtb_facts *out);
    void (*destroy)(dtb_state *state);

    /* Optional (NULL: not provided). The parameters the next forward pass
     * computes with, in canonical layout, identical on every rank: under
     * fp32 the masters (*dtype = DTB_DTYPE_FP32, out holds n floats), under
     * bf16-mixed their bf16 copies (*dtype = DTB_DTYPE_BF16, out holds n
     * uint16_t bit patterns). out has room for n * 4 bytes. The harness
     * checks bit for bit that they are the prescribed rounding of the
     * parameters get_params returned for the same step. */
    int (*get_compute_params)(dtb_state *state, void *out, int64_t n, int32_t *dtype);

    /* Optional, both or neither, with DTB_CAP_CHECKPOINT (docs/checkpoint.md).
     * Collective. save_checkpoint is called between train_steps (never in
     * the middle of an accumulation) and leaves the training state as it
     * was; the harness commits the checkpoint when every rank returned 0.
     * load_checkpoint is called once, after create and before the first
     * train_step, and replaces the parameters and optimizer state (and the
     * bf16 compute copies, derived from the masters) with the saved ones.
     * Communication inside them is not counted. */
    int (*save_checkpoint)(dtb_state *state, const dtb_checkpoint_io *io);
    int (*load_checkpoint)(dtb_state *state, const dtb_checkpoint_io *io);
} dtb_plugin;

typedef const dtb_plugin *(*dtb_plugin_entry_fn)(void);

/* The version 1 table's first field, for a loader that must tell a version 1
 * plugin what changed: every table starts with its abi_version. */
typedef struct dtb_plugin_header {
    uint32_t abi_version;
} dtb_plugin_header;

#ifdef __cplusplus
}
#endif
#endif /* DTBENCH_PLUGIN_H */
