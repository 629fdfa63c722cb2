/*
 * A model description (dtb_model_desc) by name, for every kind: the named
 * MLPs and the mlp-w<W> width family (model.h), the named GPTs and the
 * gpt2-w<C> width family (gpt_configs.h). What the harness hands plugins and tests build specs from.
 */
#ifndef DTB_REFERENCE_NET_DESC_H
#define DTB_REFERENCE_NET_DESC_H

#include <stddef.h>

#include "dtbench/plugin.h"
#include "gpt_configs.h"
#include "gpt_desc.h"
#include "model.h"

typedef struct net_desc {
    const dtb_model_desc *desc;      /* into the storage below */
    mlp_config_generated generated;  /* an mlp-w<W> configuration */
    gpt_config_generated gpt_generated; /* a gpt2-w<C> configuration */
    mlp_model_desc mlp;
    gpt_model_desc gpt;
} net_desc;

/* 0, or -1 with "unknown model NAME" or the reason in err. Free with
 * net_desc_free either way. */
int net_desc_for_name(const char *name, net_desc *out, char *err, size_t err_len);
void net_desc_free(net_desc *d);

#endif
