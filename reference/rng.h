/*
 * Philox4x32-10 counter-based RNG (Salmon et al., SC'11, "Parallel random
 * numbers: as easy as 1, 2, 3"), the generator of Random123, cuRAND and
 * numpy.random.Philox. A pure function of a 64-bit key and a 128-bit counter,
 * so any element of any stream is produced without producing the others.
 */
#ifndef DTB_REFERENCE_RNG_H
#define DTB_REFERENCE_RNG_H

#include <stdint.h>

typedef struct philox4x32_ctr { uint32_t v[4]; } philox4x32_ctr;
typedef struct philox4x32_key { uint32_t v[2]; } philox4x32_key;

/* Ten rounds of Philox4x32 on counter `ctr` under key `key`. */
philox4x32_ctr philox4x32_10(philox4x32_ctr ctr, philox4x32_key key);

/* Key from a 64-bit seed: v[0] = low 32 bits, v[1] = high 32 bits. */
philox4x32_key philox_key_from_seed(uint64_t seed);

/* (u + 0.5) * 2^-32 in double: uniform on (0, 1), exact, never 0 or 1. */
double philox_unit_open(uint32_t u);

#endif
