/*
 * The ABI's description of a GPT model (dtb_model_desc, kind DTB_MODEL_GPT)
 * and its inverse: the configuration a plugin reads back from a run spec,
 * checked against the canonical table of gpt.h.
 */
#ifndef DTB_REFERENCE_GPT_DESC_H
#define DTB_REFERENCE_GPT_DESC_H

#include <stddef.h>

#include "dtbench/plugin.h"
#include "gpt.h"

/* The description with the storage its tensor table points into. */
typedef struct gpt_model_desc {
    dtb_model_desc desc;
    dtb_tensor_desc *tensors;  /* [4 + 12 L], owned */
} gpt_model_desc;

/* Tensors in canonical order (gpt.h), layer -1 for wte, wpe and ln_f and l
 * for block l, DTB_TENSOR_DECAY on the 2-D tensors (wte, wpe, the blocks'
 * four weight matrices), DTB_TENSOR_TIED on wte. 0, or -1 with a reason
 * (invalid cfg, out of memory); free with gpt_model_desc_free either way. */
int gpt_model_desc_init(const char *name, const gpt_config *cfg, gpt_model_desc *out, char *err,
                        size_t err_len);
void gpt_model_desc_free(gpt_model_desc *d);

/* The configuration of a spec's GPT description: kind, sizes and eps valid,
 * and a tensor table whose offsets, sizes and layers are the canonical ones
 * (names and flags are the harness's business). 0, or -1 with a reason. */
int gpt_config_from_desc(const dtb_model_desc *m, gpt_config *out, char *err, size_t err_len);

#endif
