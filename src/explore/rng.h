/* SPDX-License-Identifier: MIT */
/* Seeded pseudo-random numbers (xoshiro256** seeded by splitmix64).  Internal. */
#ifndef KSL_RNG_H
#define KSL_RNG_H

#include <stdint.h>

typedef struct ksl_rng {
    uint64_t s[4];
} ksl_rng;

static inline uint64_t ksl_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void ksl_rng_seed(ksl_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = ksl_splitmix64(&seed);
}

static inline uint64_t ksl_rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t ksl_rng_next(ksl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = ksl_rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ksl_rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, n), n >= 1 (Lemire's method; exact, no modulo bias). */
static inline uint64_t ksl_rng_below(ksl_rng *r, uint64_t n)
{
    uint64_t x = ksl_rng_next(r);
    __extension__ typedef unsigned __int128 u128;
    u128 m = (u128)x * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            x = ksl_rng_next(r);
            m = (u128)x * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

#endif
