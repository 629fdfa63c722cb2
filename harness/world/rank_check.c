#include "rank_check.h"

#include <stdio.h>

#include "model.h"

int checks_validate_rank(const case_config *cfg, int rank, int world_size, const rank_result *r,
                         char *msg, size_t msg_len)
{
    int64_t n_params = case_config_n_params(cfg);
    if (r->rank != rank || r->world_size != world_size || r->steps != cfg->steps ||
        r->n_params != n_params || r->n_checks != cfg->n_checks) {
        snprintf(msg, msg_len, "rank file %d holds rank %d of %d, %lld steps, %lld params, %d "
                 "checks; expected rank %d of %d, %lld steps, %lld params, %d checks",
                 rank, r->rank, r->world_size, (long long)r->steps, (long long)r->n_params,
                 r->n_checks, rank, world_size, (long long)cfg->steps, (long long)n_params,
                 cfg->n_checks);
        return -1;
    }
    for (int k = 0; k < cfg->n_checks; k++) {
        if (r->check_steps[k] != cfg->check_steps[k]) {
            snprintf(msg, msg_len, "rank file %d checked step %lld, expected %lld", rank,
                     (long long)r->check_steps[k], (long long)cfg->check_steps[k]);
            return -1;
        }
    }
    return 0;
}
