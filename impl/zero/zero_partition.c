#include "zero_partition.h"

int zero_partition_init(const net_model *m, int world, zero_partition *out)
{
    *out = (zero_partition){.world = world, .n_units = m->n_units, .n_params = m->n_params};
    if (m->n_units > ZERO_MAX_UNITS)
        return -1;
    for (int l = 0; l < out->n_units; l++) {
        zero_unit *u = &out->units[l];
        u->canonical_offset = m->unit_offset[l];
        u->numel = net_unit_numel(m, l);
        u->shard = (u->numel + world - 1) / world;
        u->padded = u->shard * world;
        u->padded_offset = out->padded_total;
        u->shard_offset = out->shard_total;
        out->padded_total += u->padded;
        out->shard_total += u->shard;
        if (u->padded > out->max_padded)
            out->max_padded = u->padded;
        if (u->shard > out->max_shard)
            out->max_shard = u->shard;
    }
    return 0;
}

void zero_owned_range(const zero_partition *p, int unit, int rank, int64_t *first,
                      int64_t *count)
{
    const zero_unit *u = &p->units[unit];
    const int64_t begin = (int64_t)rank * u->shard;
    int64_t end = begin + u->shard;
    if (end > u->numel)
        end = u->numel;
    *first = begin;
    *count = end > begin ? end - begin : 0;
}

int64_t zero_unit_padding(const zero_partition *p, int unit)
{
    return p->units[unit].padded - p->units[unit].numel;
}
