/*
 * Tests build run specs by hand: spec->model must point at a model
 * description that outlives the spec. This keeps one description per MLP
 * configuration for the life of the test program.
 */
#ifndef DTB_TESTS_SPEC_MODEL_H
#define DTB_TESTS_SPEC_MODEL_H

#include <stdio.h>
#include <stdlib.h>

#include "model.h"

static inline void test_spec_set_model(dtb_run_spec *spec, const mlp_config *cfg)
{
    enum { CAP = 32 };
    static mlp_model_desc descs[CAP];
    static const mlp_config *keys[CAP];
    static int n;
    for (int i = 0; i < n; i++) {
        if (keys[i] == cfg) {
            spec->model = &descs[i].desc;
            return;
        }
    }
    if (n == CAP) {
        fprintf(stderr, "test_spec_set_model: more than %d models\n", CAP);
        abort();
    }
    keys[n] = cfg;
    mlp_spec_set_model(spec, cfg, &descs[n++]);
}

#endif
