/*
 * Any model the ABI describes, as the reference implementations run it: the
 * kind's configuration (MLP or GPT), its units (unit_hooks.h), the
 * activation workspace and one forward + backward pass through unit hooks,
 * and the kind's data and initial values. The replica, DDP and ZeRO are
 * written against this, never against one kind.
 *
 * Samples: an MLP sample is dims[0] floats of input and one int32 class; a
 * GPT sample is a sequence of T int32 tokens and T int32 next tokens. A
 * sample has `positions` targets (1 or T) and the loss is the mean over
 * every position of the global batch, so a pass over part of it runs with
 * scale = fl32(1 / (B * positions)).
 */
#ifndef DTB_REFERENCE_NET_H
#define DTB_REFERENCE_NET_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "dtbench/plugin.h"
#include "gpt.h"
#include "mlp_train.h"
#include "model.h"
#include "unit_hooks.h"

/* What a spec's model is: no allocation, valid while the spec's
 * description lives. */
typedef struct net_config {
    int32_t kind;                    /* DTB_MODEL_MLP or DTB_MODEL_GPT */
    const dtb_model_desc *desc;      /* the spec's, checked canonical */
    mlp_config mlp;                  /* kind MLP (name points into desc) */
    gpt_config gpt;                  /* kind GPT */
    int64_t input_bytes;             /* one sample's inputs: 4 dims[0] or 4 T */
    int64_t positions;               /* targets per sample: 1 or T */
} net_config;

/* 0, or -1 with a reason: no description, an unknown kind, or a
 * description that is not the canonical one of its kind. */
int net_config_from_spec(const dtb_run_spec *spec, net_config *out, char *err, size_t err_len);

/* Samples first .. first+count-1 of step's global batch (inputs as the
 * kind lays them out; either pointer may be NULL), and initial values of a
 * tensor's elements, from the kind's counter streams. 0 or -1 (bad range). */
int net_sample_batch(uint64_t seed, const net_config *c, int64_t step, int64_t first,
                     int64_t count, void *inputs, int32_t *targets);
int net_init_values(uint64_t seed, const net_config *c, int32_t tensor, int64_t first,
                    int64_t count, float *out);

/* The units over the tensor table, and the order of the pass. */
typedef struct net_model {
    net_config c;
    int64_t n_params;
    int n_tensors;
    int n_units;
    int64_t *unit_offset;            /* [n_units + 1]: canonical; [n_units] = n_params */
    int32_t *unit_tensor;            /* [n_units + 1]: first tensor; [n_units] = n_tensors */
    int32_t *tensor_unit;            /* [n_tensors] */
    int64_t max_unit;                /* largest unit's elements */
    /* The unit whose gradient stays open while other units' backward runs
     * (GPT: unit 0, both uses of wte), -1 if none (MLP). */
    int open_unit;
    /* The units in the order the pass gets their parameters: the forward's
     * n_units items, then the backward's n_units (MLP: 0..L-1, L-1..0;
     * GPT: 0, 1..L, then 0, L..1). */
    int *pass_units;                 /* [2 n_units] */
} net_model;

/* net_config_from_spec and the units. 0, or -1 with a reason; release with
 * net_model_free either way. */
int net_model_init(const dtb_run_spec *spec, net_model *out, char *err, size_t err_len);
void net_model_free(net_model *m);
int64_t net_unit_numel(const net_model *m, int unit);

/* Initial values of the unit's elements [first, first + count), which may
 * straddle tensors, through the host API. 0, or -1 naming the tensor in err. */
int net_unit_init(const net_model *m, const dtb_host_api *host, int unit, int64_t first,
                  int64_t count, float *out, char *err, size_t err_len);

/* The optimizer over canonical elements [first, first + count) of the
 * parameters, whose values, gradients and state are p, g, a (SGD momentum
 * or AdamW m) and b (AdamW v) from that element on: split where a tensor's
 * DTB_TENSOR_DECAY flag changes, weight decay only where it is set. */
int net_optimizer_range(dtb_backend *be, const net_model *m, const dtb_run_spec *spec,
                        int64_t first, int64_t count, float *p, const float *g, float *a,
                        float *b, int64_t t);

/* Activations for passes of up to max_batch samples, in backend memory. */
typedef struct net_workspace {
    int32_t kind;
    mlp_workspace *mlp;
    gpt_acts_f32 *gpt;
    int64_t bytes;                   /* held, for the memory accounting */
} net_workspace;

int net_workspace_create(dtb_backend *be, const net_model *m, int64_t max_batch,
                         net_workspace **out);
void net_workspace_destroy(dtb_backend *be, net_workspace *ws);

/* Forward and backward over `count` samples (host memory), adding the
 * gradient of scale * loss_sum into the hooks' buffers; *loss_sum is the
 * sum of the per-position losses. count = 0 still calls every hook. */
int net_pass(dtb_backend *be, net_workspace *ws, const net_model *m, const unit_hooks *hooks,
             const void *inputs, const int32_t *targets, int64_t count, float scale,
             double *loss_sum);

#endif
