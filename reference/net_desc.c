#include "net_desc.h"

#include <stdio.h>
#include <string.h>

#include "gpt_configs.h"

int net_desc_for_name(const char *name, net_desc *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    const mlp_config *mlp = mlp_config_resolve(name, &out->generated);
    if (mlp != NULL) {
        mlp_model_desc_init(mlp, &out->mlp);
        out->desc = &out->mlp.desc;
        return 0;
    }
    const gpt_named_config *gpt = gpt_config_resolve(name, &out->gpt_generated);
    if (gpt != NULL) {
        if (gpt_model_desc_init(gpt->name, &gpt->cfg, &out->gpt, err, err_len) != 0)
            return -1;
        out->desc = &out->gpt.desc;
        return 0;
    }
    snprintf(err, err_len, "unknown model %s", name ? name : "(none)");
    return -1;
}

void net_desc_free(net_desc *d)
{
    gpt_model_desc_free(&d->gpt);
    memset(d, 0, sizeof *d);
}
