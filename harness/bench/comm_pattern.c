#include "comm_pattern.h"

#include <string.h>

/* MurmurHash3's 64-bit finaliser: a bijection that mixes every input bit
 * into every output bit. */
static uint64_t fmix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

#define GOLDEN 0x9e3779b97f4a7c15ULL

void comm_pattern_init(comm_pattern *p, uint64_t seed, uint64_t sequence)
{
    uint64_t key = fmix64(fmix64(seed ^ 0x636f6d6d62656e63ULL) + sequence * GOLDEN);
    /* the tables: a counter-mode stream of fmix64(key + i * GOLDEN), 8 bytes a draw */
    uint8_t *bytes = &p->t[0][0];
    size_t n = sizeof p->t;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t h = fmix64(key + (uint64_t)(i / 8 + 1) * GOLDEN);
        memcpy(bytes + i, &h, 8);
    }
    /* code bits: 0-2 m - 1, 3-4 e, 5 the sign */
    for (int c = 0; c < 64; c++) {
        float m = (float)((c & 7) + 1);
        float v = m / (float)(1 << ((c >> 3) & 3)); /* exact: m * 2^-e */
        p->value[c] = (c >> 5) & 1 ? -v : v;
    }
}

static inline unsigned code_of(const comm_pattern *p, int64_t j)
{
    uint64_t u = (uint64_t)j;
    return (unsigned)(p->t[0][u & 4095u] ^ p->t[1][(u >> 12) & 4095u] ^
                      p->t[2][(u >> 24) & 4095u]) & 63u;
}

float comm_pattern_value(const comm_pattern *p, int64_t j)
{
    return p->value[code_of(p, j)];
}

void comm_pattern_fill(const comm_pattern *p, float *dst, int64_t n, int64_t first,
                       float weight)
{
    for (int64_t k = 0; k < n; k++)
        dst[k] = p->value[code_of(p, first + k)] * weight;
}

static float weight_of(int rank)
{
    return (float)(rank + 1);
}

/* W(N) = N(N+1)/2: the sum of the weights. */
static float weight_sum(int np)
{
    return (float)((int64_t)np * (np + 1) / 2);
}

int64_t comm_pattern_input_len(dtb_collective op, int64_t elements, int np)
{
    return op == DTB_COLL_REDUCE_SCATTER ? elements * np : elements;
}

int64_t comm_pattern_output_len(dtb_collective op, int64_t elements, int np)
{
    return op == DTB_COLL_ALLGATHER ? elements * np : elements;
}

void comm_pattern_fill_input(const comm_pattern *p, dtb_collective op, float *in,
                             int64_t elements, int rank, int np)
{
    switch (op) {
    case DTB_COLL_ALLREDUCE:
        comm_pattern_fill(p, in, elements, 0, weight_of(rank));
        break;
    case DTB_COLL_REDUCE_SCATTER:
        comm_pattern_fill(p, in, elements * np, 0, weight_of(rank));
        break;
    case DTB_COLL_ALLGATHER:
        comm_pattern_fill(p, in, elements, (int64_t)rank * elements, weight_of(rank));
        break;
    case DTB_COLL_BROADCAST:
        comm_pattern_fill(p, in, elements, 0, rank == 0 ? 1.0f : -1.0f);
        break;
    default:
        break;
    }
}

/* The output of rank `rank` is made of segments, each a(first + k) * weight
 * for k < len: one segment for every kind but allgather, N for allgather. */
typedef struct segment {
    int64_t out_offset, first, len;
    float weight;
} segment;

static int segment_at(dtb_collective op, int rank, int np, int64_t elements, int q, segment *s)
{
    switch (op) {
    case DTB_COLL_ALLREDUCE:
        *s = (segment){0, 0, elements, weight_sum(np)};
        return q == 0;
    case DTB_COLL_REDUCE_SCATTER:
        *s = (segment){0, (int64_t)rank * elements, elements, weight_sum(np)};
        return q == 0;
    case DTB_COLL_ALLGATHER:
        *s = (segment){(int64_t)q * elements, (int64_t)q * elements, elements, weight_of(q)};
        return q < np;
    case DTB_COLL_BROADCAST:
        *s = (segment){0, 0, elements, 1.0f};
        return q == 0;
    default:
        return 0;
    }
}

float comm_pattern_expected(const comm_pattern *p, dtb_collective op, int rank, int np,
                            int64_t elements, int64_t i)
{
    segment s;
    int q = op == DTB_COLL_ALLGATHER && elements > 0 ? (int)(i / elements) : 0;
    if (!segment_at(op, rank, np, elements, q, &s))
        return 0.0f;
    return comm_pattern_value(p, s.first + (i - s.out_offset)) * s.weight;
}

/* Same bits: an exact comparison that also tells -0 from 0 and fails NaN. */
static int same_bits(float a, float b)
{
    uint32_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y;
}

#define CHUNK 1024

int64_t comm_pattern_verify(const comm_pattern *p, dtb_collective op, const float *out,
                            int64_t elements, int rank, int np, comm_mismatch *first)
{
    int64_t wrong = 0;
    float want[CHUNK];
    segment s;
    for (int q = 0; segment_at(op, rank, np, elements, q, &s); q++)
        for (int64_t k0 = 0; k0 < s.len; k0 += CHUNK) {
            int64_t n = s.len - k0 < CHUNK ? s.len - k0 : CHUNK;
            const float *got = out + s.out_offset + k0;
            comm_pattern_fill(p, want, n, s.first + k0, s.weight);
            if (memcmp(want, got, (size_t)n * sizeof *got) == 0)
                continue;
            for (int64_t k = 0; k < n; k++) {
                if (same_bits(got[k], want[k]))
                    continue;
                if (wrong == 0 && first)
                    *first = (comm_mismatch){s.out_offset + k0 + k, want[k], got[k]};
                wrong++;
            }
        }
    return wrong;
}
