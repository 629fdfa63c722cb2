/*
 * The ZeRO layer-unit partition: every real element owned by exactly one
 * rank, padding only at a unit's end, shard and padded offsets consistent,
 * for worlds of 1..7 ranks, models whose unit sizes N does not divide, and a
 * unit smaller than N (some ranks own only padding).
 */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"
#include "zero_partition.h"

static int failures;
#define EXPECT(cond, ...)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            failures++;                                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                         \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

static void check_model(const mlp_config *cfg, int world)
{
    mlp_layout layout;
    mlp_layout_init(cfg, &layout);
    zero_partition p;
    zero_partition_init(&layout, world, &p);
    EXPECT(p.n_units == cfg->n_linear, "%s: %d units", cfg->name, p.n_units);
    EXPECT(p.padded_total == (int64_t)world * p.shard_total, "%s N=%d: Psi_P != N Psi_s",
           cfg->name, world);
    int64_t padded = 0, shard = 0, real = 0;
    for (int l = 0; l < p.n_units; l++) {
        const zero_unit *u = &p.units[l];
        EXPECT(u->canonical_offset == layout.offset[2 * l], "unit %d offset", l);
        EXPECT(u->numel == layout.numel[2 * l] + layout.numel[2 * l + 1], "unit %d numel", l);
        EXPECT(u->padded_offset == padded && u->shard_offset == shard, "unit %d offsets", l);
        /* s_l = ceil(n_l / N): the fewest per-rank elements that cover the unit. */
        EXPECT(u->shard * world >= u->numel && (u->shard - 1) * world < u->numel,
               "%s N=%d unit %d: shard %lld for %lld elements", cfg->name, world, l,
               (long long)u->shard, (long long)u->numel);
        EXPECT(zero_unit_padding(&p, l) == u->padded - u->numel && zero_unit_padding(&p, l) < world,
               "unit %d padding", l);
        /* Owned ranges tile [0, n_l) in rank order, each inside its block. */
        int64_t next = 0;
        for (int r = 0; r < world; r++) {
            int64_t first, count;
            zero_owned_range(&p, l, r, &first, &count);
            EXPECT(count >= 0 && count <= u->shard, "rank %d count %lld", r, (long long)count);
            if (count > 0) {
                EXPECT(first == next && first == (int64_t)r * u->shard,
                       "%s N=%d unit %d rank %d starts at %lld, expected %lld", cfg->name, world,
                       l, r, (long long)first, (long long)next);
                next = first + count;
            }
        }
        EXPECT(next == u->numel, "%s N=%d unit %d: owned ranges cover %lld of %lld", cfg->name,
               world, l, (long long)next, (long long)u->numel);
        padded += u->padded;
        shard += u->shard;
        real += u->numel;
    }
    EXPECT(real == layout.n_params && p.n_params == layout.n_params, "%s: units cover Psi",
           cfg->name);
    EXPECT(p.padded_total - p.n_params <= (int64_t)p.n_units * (world - 1),
           "%s N=%d: padding %lld over L(N-1)", cfg->name, world,
           (long long)(p.padded_total - p.n_params));
}

int main(void)
{
    for (size_t i = 0; i < mlp_config_count(); i++)
        for (int world = 1; world <= 7; world++)
            if (mlp_param_count(mlp_config_at(i)) < 30000000)
                check_model(mlp_config_at(i), world);

    /* Hand-checked: mlp-odd (37-53-56-3) at N = 4. Units: 37*53+53 = 2014,
     * 53*56+56 = 3024, 56*3+3 = 171; shards 504, 756, 43; padding 2, 0, 1. */
    const mlp_config *odd = mlp_config_find("mlp-odd");
    mlp_layout layout;
    mlp_layout_init(odd, &layout);
    zero_partition p;
    zero_partition_init(&layout, 4, &p);
    EXPECT(p.units[0].shard == 504 && p.units[1].shard == 756 && p.units[2].shard == 43,
           "mlp-odd N=4 shards %lld %lld %lld", (long long)p.units[0].shard,
           (long long)p.units[1].shard, (long long)p.units[2].shard);
    EXPECT(p.shard_total == 1303 && p.padded_total == 5212, "mlp-odd N=4 totals");

    /* A unit smaller than N: 2 -> 1 -> 1 (units of 3 and 2 elements) at N = 4:
     * ranks 3 (and 2 of unit 1) own nothing but padding. */
    const mlp_config tiny = {.name = "tiny", .n_linear = 2, .dims = {2, 1, 1}};
    check_model(&tiny, 4);
    mlp_layout_init(&tiny, &layout);
    zero_partition_init(&layout, 4, &p);
    int64_t first, count;
    zero_owned_range(&p, 0, 3, &first, &count);
    EXPECT(p.units[0].shard == 1 && count == 0, "tiny unit 0: rank 3 owns %lld", (long long)count);
    zero_owned_range(&p, 1, 2, &first, &count);
    EXPECT(count == 0, "tiny unit 1: rank 2 owns %lld", (long long)count);

    if (failures == 0)
        printf("zero_partition: all checks passed\n");
    return failures ? 1 : 0;
}
