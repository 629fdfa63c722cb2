/*
 * The closed-form communication and memory a data-parallel stage must show
 * (docs/zero.md, "Theory the suites check"). Pure functions of the case:
 * stage, precision, optimizer, model widths, world size N, micro-batches M,
 * steps S and ZeRO-3 prefetch depth d. No I/O, no allocation.
 *
 * Partitioning (docs/zero.md): the reference's unit is a layer (MLP: W_l
 * followed by b_l, n_l = out*in + out elements; GPT: the embeddings with
 * ln_f, then each block); s_l = ceil(n_l / N) elements per rank, U_l = N*s_l
 * padded; Psi_s = sum s_l per rank, Psi_P = sum U_l = N*Psi_s.
 *
 * Bytes per element: p (compute parameters) 4 fp32 / 2 bf16-mixed, g
 * (gradients, fp32 under both recipes) 4, K (optimizer state, incl. the fp32
 * master under bf16-mixed): fp32 SGD 4, fp32 AdamW 8, bf16 SGD 8, bf16 AdamW 12.
 */
#ifndef DTB_HARNESS_THEORY_H
#define DTB_HARNESS_THEORY_H

#include <stdint.h>

#include "dtbench/plugin.h"
#include "model.h"

/* Units of a model the theory takes (GPT: 127 blocks). */
#define THEORY_MAX_UNITS 128

/* What the theory depends on: the model's units, given either as the MLP's
 * widths dims[0..n_linear] (n_units 0) or, for any kind, as n_units units
 * of unit_numel elements in unit_tensors tensors each (n_linear 0). */
typedef struct theory_case {
    int32_t stage;             /* dtb_stage */
    int32_t precision;         /* dtb_precision */
    int32_t optimizer;         /* dtb_optimizer */
    int n_linear;
    int64_t dims[DTB_MAX_LINEAR + 1];
    int n_units;
    int64_t unit_numel[THEORY_MAX_UNITS];
    int32_t unit_tensors[THEORY_MAX_UNITS];
    int world_size;            /* N >= 1 */
    int32_t micro_batches;     /* M >= 1 */
    int64_t steps;             /* S >= 0 */
    int32_t prefetch_depth;    /* d (ZeRO-3); negative: unknown */
} theory_case;

/* The layer-unit partition of the model over N ranks. */
typedef struct theory_partition {
    int n_units;                          /* L */
    int64_t unit_numel[THEORY_MAX_UNITS]; /* n_l */
    int64_t shard_numel[THEORY_MAX_UNITS]; /* s_l = ceil(n_l / N) */
    int64_t n_params;                     /* Psi = sum n_l */
    int64_t shard_total;                  /* Psi_s = sum s_l */
    int64_t padded_total;                 /* Psi_P = N * Psi_s */
    int64_t max_unit_padded;              /* max_l U_l */
} theory_partition;

void theory_partition_init(const theory_case *c, theory_partition *out);
/* The case's units: elements and tensors of each (numel, tensors may be
 * NULL); returns how many. */
int theory_units(const theory_case *c, int64_t *numel, int32_t *tensors);

/* Bytes per element of the recipe (p, g, K above); the paper's p and g
 * (2 each under mixed precision, 4 under fp32; K is the same). */
typedef struct theory_bytes {
    int p, g, K;
    int paper_p, paper_g;
} theory_bytes;

/* 0, or -1 for an unknown precision or optimizer (out is then zero). */
int theory_bytes_per_element(int32_t precision, int32_t optimizer, theory_bytes *out);

/* ---- communication ----------------------------------------------------------
 * Expected dtb_counters, totals over all S steps, per rank (every rank the
 * same). A world of one: everything zero. Otherwise, per step:
 *
 *   DDP     allreduce: the fp32 gradient (4*Psi bytes, in buckets) and the
 *           fp64 loss sum (8 bytes): bytes exactly 4*Psi + 8. Calls: one per
 *           bucket plus one, but the bucket plan (which tensors share a
 *           bucket, whether a tensor larger than the cap is split) is the
 *           implementation's choice and not part of the ABI: facts.bucket_bytes
 *           gives the capacity only, from which the count cannot be derived
 *           for every plugin. So calls is a lower bound, 2 per step (at least
 *           one gradient bucket and the loss); calls_exact says so.
 *   ZeRO-1  reduce-scatter L calls, g*Psi_P bytes; allgather L, p*Psi_P;
 *           allreduce 2, 16 (loss sum and squared gradient norm, fp64).
 *   ZeRO-2  reduce-scatter M*L, M*g*Psi_P; allgather L, p*Psi_P; allreduce 2, 16.
 *   ZeRO-3  reduce-scatter M*L, M*g*Psi_P; allgather 2*M*L, 2*M*p*Psi_P
 *           (each unit before its forward and again before its backward);
 *           allreduce 2, 16.
 *
 * Every other kind (broadcast, reduce, barrier) is zero. The single-device
 * stage expects nothing at all. */
typedef struct theory_comm {
    dtb_counters expected;
    int calls_exact[DTB_COLL_KIND_COUNT];  /* 0: expected.calls[k] is a lower bound */
} theory_comm;

/* 0, or -1 for an unknown stage, precision or optimizer (out zeroed). */
int theory_communication(const theory_case *c, theory_comm *out);

/* nccl-tests' bus factor for a collective of kind k over N ranks: allreduce
 * 2(N-1)/N, reduce-scatter and allgather (N-1)/N, broadcast, reduce and
 * point-to-point (bytes sent) 1, barrier 0 (it moves no payload). */
double theory_bus_factor(int kind, int world_size);
/* "allreduce", "reduce_scatter", ..., "p2p": a dtb_collective as metric
 * names and diagnostics spell it ("unknown" out of range). */
const char *theory_collective_name(int kind);
/* Bus bytes per rank per step of counters accumulated over `steps` steps:
 * sum_k bytes[k] * factor(k) / steps (0 when steps is 0). */
double theory_bus_bytes_per_step(const dtb_counters *c, int world_size, int64_t steps);
/* The paper's reference volume, in elements per rank per step with one
 * micro-batch: about 2*Psi for DDP, ZeRO-1 and ZeRO-2 and 3*Psi for ZeRO-3,
 * as bus elements, i.e. times (N-1)/N. 0 for N = 1 or the single stage. */
double theory_paper_bus_elements(int32_t stage, int64_t n_params, int world_size);

/* ---- memory -------------------------------------------------------------------
 * Model states per rank, peak(PARAMS) + peak(GRADS) + peak(OPTIM), with
 * full = Psi and shard = Psi/N in the formula:
 *
 *   DDP (and single)  (p + g + K) * full
 *   ZeRO-1            (p + g) * full + K * shard
 *   ZeRO-2            p * full + (g + K) * shard
 *   ZeRO-3            (p + g + K) * shard
 *
 * padding      = formula(Psi_P, Psi_s) - formula(Psi, Psi/N)  (0 for DDP)
 * materialised = (d + 1) * p * max_l U_l                       (ZeRO-3 only)
 * bound        = formula(Psi_P, Psi_s) + materialised, exact in bytes: a
 *                rank passes when its model states are <= bound. */
typedef struct theory_memory {
    theory_bytes bytes;
    double formula;            /* formula(Psi, Psi/N), bytes */
    double padding;            /* padding allowance, bytes */
    int64_t materialised;      /* materialised-layer allowance, bytes */
    int64_t bound;             /* formula + padding + materialised, exact */
    double paper;              /* the formula with the paper's p and g */
} theory_memory;

/* 0, or -1 for an unknown stage, precision or optimizer, or a ZeRO-3 case
 * without a prefetch depth (out zeroed). */
int theory_memory_bounds(const theory_case *c, theory_memory *out);
/* The formula's coefficients: model states = a * full + s * shard bytes,
 * with the recipe's p and g (paper 0) or the paper's (paper 1); -1 for an
 * unknown stage. */
int theory_memory_coefficients(int32_t stage, const theory_bytes *b, int paper, int64_t *a,
                               int64_t *s);

#endif
