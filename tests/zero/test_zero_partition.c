/*
 * The ZeRO layer-unit partition: every real element owned by exactly one
 * rank, padding only at a unit's end, shard and padded offsets consistent,
 * for worlds of 1..7 ranks, models whose unit sizes N does not divide, and a
 * unit smaller than N (some ranks own only padding).
 */
#include <stdio.h>
#include <stdlib.h>

#include "gpt_configs.h"
#include "net_desc.h"
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

/* The partition of a described model at `world` ranks; 0 or -1 (reported). */
static int partition_of(const dtb_model_desc *d, int world, zero_partition *p)
{
    dtb_run_spec spec = {.struct_size = sizeof spec, .model = d};
    net_model m;
    char err[256];
    int rc = net_model_init(&spec, &m, err, sizeof err);
    EXPECT(rc == 0, "%s: %s", d->name, err);
    if (rc == 0)
        rc = zero_partition_init(&m, world, p);
    net_model_free(&m);
    return rc;
}

/* The units as the layer numbers of the tensor table make them (found here
 * independently of net.h): unit k starts at the k-th new layer value. */
static int units_of(const dtb_model_desc *d, int64_t *offset, int64_t *numel)
{
    int n = -1;
    for (int t = 0; t < d->n_tensors; t++) {
        if (t == 0 || d->tensors[t].layer != d->tensors[t - 1].layer) {
            offset[++n] = d->tensors[t].offset;
            numel[n] = 0;
        }
        numel[n] += d->tensors[t].numel;
    }
    return n + 1;
}

static void check_model(const dtb_model_desc *d, int world)
{
    const char *name = d->name;
    int64_t offset[ZERO_MAX_UNITS], numel[ZERO_MAX_UNITS];
    const int units = units_of(d, offset, numel);
    zero_partition p;
    if (partition_of(d, world, &p) != 0)
        return;
    EXPECT(p.n_units == units, "%s: %d units, want %d", name, p.n_units, units);
    EXPECT(p.padded_total == (int64_t)world * p.shard_total, "%s N=%d: Psi_P != N Psi_s",
           name, world);
    int64_t padded = 0, shard = 0, real = 0;
    for (int l = 0; l < p.n_units; l++) {
        const zero_unit *u = &p.units[l];
        EXPECT(u->canonical_offset == offset[l], "unit %d offset", l);
        EXPECT(u->numel == numel[l], "unit %d numel", l);
        EXPECT(u->padded_offset == padded && u->shard_offset == shard, "unit %d offsets", l);
        /* s_l = ceil(n_l / N): the fewest per-rank elements that cover the unit. */
        EXPECT(u->shard * world >= u->numel && (u->shard - 1) * world < u->numel,
               "%s N=%d unit %d: shard %lld for %lld elements", name, world, l,
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
                       "%s N=%d unit %d rank %d starts at %lld, expected %lld", name, world,
                       l, r, (long long)first, (long long)next);
                next = first + count;
            }
        }
        EXPECT(next == u->numel, "%s N=%d unit %d: owned ranges cover %lld of %lld", name,
               world, l, (long long)next, (long long)u->numel);
        padded += u->padded;
        shard += u->shard;
        real += u->numel;
    }
    EXPECT(real == d->n_params && p.n_params == d->n_params, "%s: units cover Psi", name);
    EXPECT(p.padded_total - p.n_params <= (int64_t)p.n_units * (world - 1),
           "%s N=%d: padding %lld over L(N-1)", name, world,
           (long long)(p.padded_total - p.n_params));
}

int main(void)
{
    for (size_t i = 0; i < mlp_config_count(); i++) {
        mlp_model_desc d;
        mlp_model_desc_init(mlp_config_at(i), &d);
        for (int world = 1; world <= 7; world++)
            check_model(&d.desc, world);
    }
    /* GPTs: unit 0 is wte, wpe and ln_f, then one unit per block. */
    for (size_t i = 0; i < gpt_config_count(); i++) {
        const gpt_named_config *g = gpt_config_at(i);
        gpt_model_desc d;
        char err[256];
        EXPECT(gpt_model_desc_init(g->name, &g->cfg, &d, err, sizeof err) == 0, "%s", err);
        for (int world = 1; world <= 7 && d.tensors != NULL; world++)
            check_model(&d.desc, world);
        zero_partition p;
        if (d.tensors != NULL && partition_of(&d.desc, 4, &p) == 0) {
            const int64_t C = g->cfg.d_model;
            EXPECT(p.n_units == 1 + g->cfg.n_layer &&
                       p.units[0].numel == (g->cfg.vocab + g->cfg.context + 2) * C &&
                       p.units[1].numel == 12 * C * C + 13 * C,
                   "%s: %d units, unit 0 of %lld, a block of %lld", g->name, p.n_units,
                   (long long)p.units[0].numel, (long long)p.units[1].numel);
        }
        gpt_model_desc_free(&d);
    }

    /* Hand-checked: mlp-odd (37-53-56-3) at N = 4. Units: 37*53+53 = 2014,
     * 53*56+56 = 3024, 56*3+3 = 171; shards 504, 756, 43; padding 2, 0, 1. */
    mlp_model_desc odd;
    mlp_model_desc_init(mlp_config_find("mlp-odd"), &odd);
    zero_partition p = {0};
    partition_of(&odd.desc, 4, &p);
    EXPECT(p.units[0].shard == 504 && p.units[1].shard == 756 && p.units[2].shard == 43,
           "mlp-odd N=4 shards %lld %lld %lld", (long long)p.units[0].shard,
           (long long)p.units[1].shard, (long long)p.units[2].shard);
    EXPECT(p.shard_total == 1303 && p.padded_total == 5212, "mlp-odd N=4 totals");

    /* A unit smaller than N: 2 -> 1 -> 1 (units of 3 and 2 elements) at N = 4:
     * ranks 3 (and 2 of unit 1) own nothing but padding. */
    const mlp_config tiny = {.name = "tiny", .n_linear = 2, .dims = {2, 1, 1}};
    mlp_model_desc tiny_desc;
    mlp_model_desc_init(&tiny, &tiny_desc);
    check_model(&tiny_desc.desc, 4);
    partition_of(&tiny_desc.desc, 4, &p);
    int64_t first, count;
    zero_owned_range(&p, 0, 3, &first, &count);
    EXPECT(p.units[0].shard == 1 && count == 0, "tiny unit 0: rank 3 owns %lld", (long long)count);
    zero_owned_range(&p, 1, 2, &first, &count);
    EXPECT(count == 0, "tiny unit 1: rank 2 owns %lld", (long long)count);

    if (failures == 0)
        printf("zero_partition: all checks passed\n");
    return failures ? 1 : 0;
}
