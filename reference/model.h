/*
 * The MLP model family: named configurations, the canonical parameter
 * layout, and the deterministic initial values and data that every rank and
 * every third-party implementation reproduces (docs/model-spec.md).
 */
#ifndef DTB_REFERENCE_MODEL_H
#define DTB_REFERENCE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "dtbench/plugin.h"

/* The reference MLP family's limits (the ABI itself has none). */
#define DTB_MAX_LINEAR 8
#define DTB_MAX_TENSORS (2 * DTB_MAX_LINEAR)

typedef struct mlp_config {
    const char *name;
    const char *summary;                /* one line for `dtbench list` */
    int n_linear;
    int64_t dims[DTB_MAX_LINEAR + 1];
} mlp_config;

size_t mlp_config_count(void);
const mlp_config *mlp_config_at(size_t index);
const mlp_config *mlp_config_find(const char *name); /* NULL if unknown */
int64_t mlp_param_count(const mlp_config *cfg);

/* The width family "mlp-w<W>": 1024 inputs, seven hidden layers of width W,
 * 1024 classes (8 linear layers; mlp-100m is mlp-w4096), for sweeps and
 * searches over model size at any granularity:
 *   Psi(W) = 1024 W + W + 6 (W^2 + W) + 1024 W + 1024 = 6 W^2 + 2055 W + 1024. */
#define MLP_WIDTH_FAMILY_MIN 16
#define MLP_WIDTH_FAMILY_MAX 32768
int64_t mlp_width_family_params(int64_t width);
/* "<prefix><W>" with W in min..max written without leading zeros: 0 and
 * *width, else -1 (a family's generated names: mlp-w<W>, gpt2-w<C>). */
int family_width_parse(const char *name, const char *prefix, int64_t min, int64_t max,
                       int64_t *width);
/* A configuration whose name is made here; it lives as long as its storage. */
typedef struct mlp_config_generated {
    mlp_config cfg;
    char name[24];
    char summary[96];
} mlp_config_generated;
/* "mlp-w<W>" with W in MIN..MAX, no leading zeros: &out->cfg; else NULL. */
const mlp_config *mlp_config_generate(const char *name, mlp_config_generated *out);
/* A named configuration, else a generated one (in *storage), else NULL. */
const mlp_config *mlp_config_resolve(const char *name, mlp_config_generated *storage);
/* Training FLOPs of one step over `batch` samples: 6 * batch * sum(in*out)
 * for the matrix products (forward 2, backward 4), the rest neglected. */
double mlp_step_flops(const mlp_config *cfg, int64_t batch);

/* Canonical layout: tensor t = 2l is W_l [dims[l+1] x dims[l]] row-major,
 * t = 2l+1 is b_l [dims[l+1]]; offset[t] is its first element in the flat
 * array, offset[n_tensors] = n_params. */
typedef struct mlp_layout {
    int n_tensors;
    int64_t n_params;
    int64_t offset[DTB_MAX_TENSORS + 1];
    int64_t numel[DTB_MAX_TENSORS];
    int64_t rows[DTB_MAX_TENSORS];      /* dims[l+1] for W_l and b_l */
    int64_t cols[DTB_MAX_TENSORS];      /* dims[l] for W_l, 1 for b_l */
    char name[DTB_MAX_TENSORS][16];     /* "W0", "b0", ... */
} mlp_layout;

void mlp_layout_init(const mlp_config *cfg, mlp_layout *out);
/* The ABI's description of an MLP (dtb_model_desc, kind DTB_MODEL_MLP) with
 * the storage its pointers point into: tensors W_l, b_l in canonical order,
 * layer l, weight decay on every tensor (docs/model-spec.md). */
typedef struct mlp_model_desc {
    dtb_model_desc desc;
    dtb_tensor_desc tensors[DTB_MAX_TENSORS];
    int64_t dims[DTB_MAX_LINEAR + 1];
} mlp_model_desc;
void mlp_model_desc_init(const mlp_config *cfg, mlp_model_desc *out);
/* spec->model = &storage->desc, filled from cfg: the spec is valid while
 * *storage lives. */
void mlp_spec_set_model(dtb_run_spec *spec, const mlp_config *cfg, mlp_model_desc *storage);
/* Fill a config from a run spec's model description (for plugins, which see
 * only the spec). out->name points into the description, so the config is
 * valid only while it lives (until destroy). -1 with a message when the
 * model is not an MLP or its description is inconsistent (tensor table,
 * offsets, n_params); check widths with mlp_config_validate. */
int mlp_config_from_spec(const dtb_run_spec *spec, mlp_config *out, char *err, size_t err_len);
/* 0 if n_linear is in 1..DTB_MAX_LINEAR and every width in 1..INT32_MAX;
 * otherwise -1 with a message in err. The functions above and below assume
 * a valid config. */
int mlp_config_validate(const mlp_config *cfg, char *err, size_t err_len);

/* Initial value of element i of tensor t (model-spec.md section "Init"):
 * u = philox_unit_open(Philox(key=seed, ctr=(lo32(i), hi32(i), t, 0)).v[0]),
 * value = (float)(bound * (2u - 1)) with bound = 1/sqrt(fan_in), fan_in = dims[l]
 * for both W_l and b_l. Returns 0, or -1 for a range outside the tensor. */
int mlp_init_values(uint64_t seed, const mlp_config *cfg, int32_t tensor, int64_t first,
                    int64_t count, float *out);

/* Samples first..first+count-1 of the global batch of step s >= 1
 * (model-spec.md section "Data"): x[j][i] = (float)(2u - 1) with
 * u from Philox(key=seed, ctr=(i, j, s, 1)).v[0], label
 * y[j] = (Philox(key=seed, ctr=(0, j, s, 2)).v[0] * classes) >> 32.
 * s and j must fit in 32 bits. x or y may be NULL to skip it.
 * Returns 0, or -1 for a bad step or range. */
int mlp_sample_batch(uint64_t seed, const mlp_config *cfg, int64_t step, int64_t first,
                     int64_t count, float *x, int32_t *y);

/* Balanced split of `total` items into `parts`: part p gets
 * [floor(p*total/parts), floor((p+1)*total/parts)). */
void split_range(int64_t total, int64_t parts, int64_t part, int64_t *first, int64_t *count);
/* The largest share any of `ranks` gets of any of the `micro` micro-batches
 * of a global batch of `batch` samples (split_range twice): the batch a
 * rank's activation workspace must hold. */
int64_t split_max_rank_share(int64_t batch, int micro, int ranks);

#endif
