/*
 * The GPT family's named configurations (docs/model-spec.md, section 16.1)
 * and the training FLOPs of a step, the GPT counterpart of model.h's
 * mlp_config table and mlp_step_flops.
 */
#ifndef DTB_REFERENCE_GPT_CONFIGS_H
#define DTB_REFERENCE_GPT_CONFIGS_H

#include <stddef.h>
#include <stdint.h>

#include "gpt.h"

typedef struct gpt_named_config {
    const char *name;
    const char *summary;   /* one line for `dtbench list` */
    gpt_config cfg;        /* LayerNorm eps 1e-5 */
} gpt_named_config;

/* gpt-odd, gpt-3m, gpt2-124m, gpt2-355m, gpt2-774m, gpt2-1558m, in that order. */
size_t gpt_config_count(void);
const gpt_named_config *gpt_config_at(size_t index);    /* NULL past the end */
const gpt_named_config *gpt_config_find(const char *name); /* NULL if unknown */

/* The GPT-2 width family "gpt2-w<C>": GPT-2 small's vocabulary (50257),
 * context (1024) and 12 blocks at width C, heads of 64 (C a multiple of 64
 * in MIN..MAX), for the memory budget search over GPT-2-shaped models:
 *   Psi(C) = (V + T + 2) C + 12 (12 C^2 + 13 C) = 144 C^2 + 51439 C
 * (gpt2-w768 is gpt2-124m). */
#define GPT2_WIDTH_FAMILY_MIN 64
#define GPT2_WIDTH_FAMILY_MAX 8192
#define GPT2_WIDTH_FAMILY_STEP 64
int64_t gpt2_width_family_params(int64_t width);
typedef struct gpt_config_generated {
    gpt_named_config named;
    char name[24];
    char summary[96];
} gpt_config_generated;
/* "gpt2-w<C>" of the family: &out->named; else NULL. */
const gpt_named_config *gpt_config_generate(const char *name, gpt_config_generated *out);
/* A named configuration, else a generated one (in *storage), else NULL. */
const gpt_named_config *gpt_config_resolve(const char *name, gpt_config_generated *storage);

/* Training FLOPs of one step over `batch` sequences of T tokens, as
 * nanoGPT's estimate_mfu counts them (PaLM, appendix B):
 *   per token  6 Psi + 12 L H D T      (D = C / H, so 12 L C T)
 *   per step   (6 Psi + 12 L H D T) * batch * T
 * 6 Psi: every weight in one multiply-add forward and two backward (the
 * tied wte counted once though used twice, the head's V C matching it);
 * 12 L H D T: q k^T and P v, 2 T C flops each per token and layer forward
 * (T keys, C = H D), times 3 with backward, the causal half not discounted.
 * Biases, LayerNorms, GELU and softmax are neglected. Psi is the whole
 * parameter count, wpe included (nanoGPT subtracts wpe; llm.c keeps it but
 * counts the attention term as 6 L C T, causal). */
double gpt_step_flops(const gpt_config *cfg, int64_t batch);

#endif
