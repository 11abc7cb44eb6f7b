/* noisecli.rng._kernel: Philox4x32-10 words, the tabulated normal and the fused add kernels.
 *
 * The numpy twin (noisecli/rng/philox.py, normal.py, kernels.py) defines the results; this file
 * computes exactly the same integer and IEEE float32 operations in the same order (no FMA:
 * built with -ffp-contract=off, and the AVX2 path only uses separate mul/add intrinsics), so the
 * bytes do not depend on the path, the build flags or the CPU. Three code paths, the best one the
 * CPU has chosen at import: AVX-512 (F, BW, DQ, VL: x86-64-v4), AVX2 (both x86-64 with gcc/clang)
 * and a portable scalar one. Each is compiled with its own target attribute, so a baseline
 * x86-64 build runs everywhere and still uses the wide paths where they exist.
 *
 * Plain CPython C API; arrays arrive through the buffer protocol (no numpy headers).
 */
#if defined(__FAST_MATH__)
#error "noisecli.rng._kernel must be built without -ffast-math: its bytes must match numpy's"
#endif
/* No a*b+c -> fma contraction whatever the flags (gcc contracts even intrinsics when FMA is
 * enabled, e.g. by -march=native): the float32 roundings must be the numpy twin's. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define NC_X86 1
#include <immintrin.h>
#else
#define NC_X86 0
#endif

#define M0 0xD2511F53u
#define M1 0xCD9E8D57u
#define W0 0x9E3779B9u
#define W1 0xBB67AE85u
#define ROUNDS 10

#define NCELLS 2112
#define CELL_BIAS 8064u /* cell = (bits(float32(t) + 0.5) >> 17) - CELL_BIAS */
#define CHUNK 512 /* words per pipeline chunk: Philox -> variate -> add, all in L1 */

enum { V_NORMAL = 0, V_UNIFORM = 1, V_RAW = 2 }; /* V_RAW: z itself, no scale/offset */
enum { D_U8 = 0, D_U16 = 1, D_I16 = 2, D_I32 = 3, D_F32 = 4 };

typedef struct {
    uint32_t k0, k1, k2, k3;
} nc_key;

/* Coefficients c0..c3 of each cell (|z| = c0 + f*(c1 + f*(c2 + f*c3))). */
static float rows[NCELLS][4] __attribute__((aligned(64)));
static int table_ready = 0;
enum { ISA_GENERIC = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };
static int isa = ISA_GENERIC; /* the code path in use */

/* ---------------------------------------------------------------- portable scalar path */

static inline void philox_block(const nc_key *k, uint64_t b, uint32_t out[4])
{
    uint32_t c0 = (uint32_t)b, c1 = (uint32_t)(b >> 32), c2 = k->k2, c3 = k->k3;
    uint32_t k0 = k->k0, k1 = k->k1;
    for (int r = 0; r < ROUNDS; r++) {
        if (r) {
            k0 += W0;
            k1 += W1;
        }
        uint64_t p0 = (uint64_t)M0 * c0;
        uint64_t p1 = (uint64_t)M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

static void blocks_generic(const nc_key *k, uint64_t b0, size_t nb, uint32_t *out)
{
    for (size_t i = 0; i < nb; i++)
        philox_block(k, b0 + i, out + 4 * i);
}

static inline float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint32_t bits_from_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float normal1(uint32_t u)
{
    float x = (float)(int32_t)(u & 0x7FFFFFFFu) + 0.5f;
    uint32_t b = bits_from_f32(x);
    uint32_t cell = (b >> 17) - CELL_BIAS;
    float f = f32_from_bits(0x3F800000u | (b & 0x1FFFFu) << 6) - 1.0f;
    const float *c = rows[cell];
    float p = c[3] * f;
    p = c[2] + p;
    p = p * f;
    p = c[1] + p;
    p = p * f;
    p = c[0] + p;
    return f32_from_bits(bits_from_f32(p) ^ (u & 0x80000000u));
}

static inline float symmetric1(uint32_t w)
{
    return (float)((int32_t)(w >> 8) - (int32_t)(1 << 23)) * 1.1920928955078125e-07f;
}

static void variate_generic(int variate, const uint32_t *w, float *out, size_t n, float scale,
                            float offset)
{
    if (variate == V_RAW)
        for (size_t i = 0; i < n; i++)
            out[i] = normal1(w[i]);
    else if (variate == V_NORMAL)
        for (size_t i = 0; i < n; i++)
            out[i] = scale * normal1(w[i]) + offset;
    else
        for (size_t i = 0; i < n; i++)
            out[i] = scale * symmetric1(w[i]) + offset;
}

/* Round half to even for integral-range results: |y| < 2**23 via the 2**23 shift (exact in
 * round-to-nearest-even), larger values are integers already. */
static inline float rint_f32(float y)
{
    const float big = 8388608.0f;
    if (y >= 0.0f) {
        if (y < big)
            return (y + big) - big;
    } else if (y > -big) {
        return (y - big) + big;
    }
    return y;
}

#define ADD_GENERIC(NAME, T, ROUND)                                                            \
    static int64_t NAME(const T *x, T *o, const float *nz, size_t n, float lo, float hi)       \
    {                                                                                          \
        int64_t c = 0;                                                                         \
        for (size_t i = 0; i < n; i++) {                                                       \
            float y = (float)x[i] + nz[i];                                                     \
            int below = y < lo, above = y > hi;                                                \
            c += below | above;                                                                \
            y = below ? lo : (above ? hi : y);                                                 \
            o[i] = ROUND(y);                                                                   \
        }                                                                                      \
        return c;                                                                              \
    }

#define R_INT(y) ((int32_t)rint_f32(y))
#define R_NONE(y) (y)
ADD_GENERIC(add_u8_generic, uint8_t, (uint8_t)R_INT)
ADD_GENERIC(add_u16_generic, uint16_t, (uint16_t)R_INT)
ADD_GENERIC(add_i16_generic, int16_t, (int16_t)R_INT)
ADD_GENERIC(add_i32_generic, int32_t, R_INT)
ADD_GENERIC(add_f32_generic, float, R_NONE)

static int64_t add_generic(int dt, const void *x, void *o, const float *nz, size_t n, float lo,
                           float hi)
{
    switch (dt) {
    case D_U8:
        return add_u8_generic(x, o, nz, n, lo, hi);
    case D_U16:
        return add_u16_generic(x, o, nz, n, lo, hi);
    case D_I16:
        return add_i16_generic(x, o, nz, n, lo, hi);
    case D_I32:
        return add_i32_generic(x, o, nz, n, lo, hi);
    default:
        return add_f32_generic(x, o, nz, n, lo, hi);
    }
}

/* ---------------------------------------------------------------- AVX2 path */
#if NC_X86

#define AVX2 __attribute__((target("avx2")))

/* Philox with one block per 32-bit lane, two groups of 8 blocks interleaved; the round keys are
 * broadcast once per call. (Measured here: faster than one block per 64-bit lane, which needs
 * fewer operations per round but more registers per block.) */
AVX2 static inline void mulhilo8(__m256i a, __m256i m, __m256i *hi, __m256i *lo)
{
    __m256i pe = _mm256_mul_epu32(a, m);                         /* lanes 0,2,4,6 */
    __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m); /* lanes 1,3,5,7 */
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
    *lo = _mm256_mullo_epi32(a, m);
}

typedef struct {
    __m256i k0[ROUNDS], k1[ROUNDS];
} round_keys;

AVX2 static void make_round_keys(const nc_key *k, round_keys *rk)
{
    uint32_t k0 = k->k0, k1 = k->k1;
    for (int r = 0; r < ROUNDS; r++) {
        rk->k0[r] = _mm256_set1_epi32((int)k0);
        rk->k1[r] = _mm256_set1_epi32((int)k1);
        k0 += W0;
        k1 += W1;
    }
}

/* 16 blocks (two independent groups of 8 lanes) -> 64 interleaved words. */
AVX2 static inline void blocks16_avx2(const nc_key *k, const round_keys *rk, uint64_t b0,
                                      uint32_t *out)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_set1_epi32((int)M0), m1 = _mm256_set1_epi32((int)M1);
    __m256i c0[2], c1[2], c2[2], c3[2];
    for (int g = 0; g < 2; g++) {
        uint64_t b = b0 + 8u * (uint64_t)g;
        c0[g] = _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)b), iota);
        c1[g] = _mm256_set1_epi32((int)(uint32_t)(b >> 32));
        c2[g] = _mm256_set1_epi32((int)k->k2);
        c3[g] = _mm256_set1_epi32((int)k->k3);
    }
    for (int r = 0; r < ROUNDS; r++) {
        for (int g = 0; g < 2; g++) {
            __m256i hi0, lo0, hi1, lo1;
            mulhilo8(c0[g], m0, &hi0, &lo0);
            mulhilo8(c2[g], m1, &hi1, &lo1);
            c0[g] = _mm256_xor_si256(hi1, _mm256_xor_si256(c1[g], rk->k0[r]));
            c2[g] = _mm256_xor_si256(hi0, _mm256_xor_si256(c3[g], rk->k1[r]));
            c1[g] = lo1;
            c3[g] = lo0;
        }
    }
    for (int g = 0; g < 2; g++) {
        __m256i t0 = _mm256_unpacklo_epi32(c0[g], c1[g]);
        __m256i t1 = _mm256_unpacklo_epi32(c2[g], c3[g]);
        __m256i t2 = _mm256_unpackhi_epi32(c0[g], c1[g]);
        __m256i t3 = _mm256_unpackhi_epi32(c2[g], c3[g]);
        __m256i r0 = _mm256_unpacklo_epi64(t0, t1); /* blocks 0 | 4 */
        __m256i r1 = _mm256_unpackhi_epi64(t0, t1); /* blocks 1 | 5 */
        __m256i r2 = _mm256_unpacklo_epi64(t2, t3); /* blocks 2 | 6 */
        __m256i r3 = _mm256_unpackhi_epi64(t2, t3); /* blocks 3 | 7 */
        __m256i *dst = (__m256i *)(out + 32 * g);
        _mm256_storeu_si256(dst + 0, _mm256_permute2x128_si256(r0, r1, 0x20));
        _mm256_storeu_si256(dst + 1, _mm256_permute2x128_si256(r2, r3, 0x20));
        _mm256_storeu_si256(dst + 2, _mm256_permute2x128_si256(r0, r1, 0x31));
        _mm256_storeu_si256(dst + 3, _mm256_permute2x128_si256(r2, r3, 0x31));
    }
}

AVX2 static void blocks_avx2(const nc_key *k, uint64_t b0, size_t nb, uint32_t *out)
{
    round_keys rk;
    make_round_keys(k, &rk);
    size_t i = 0;
    for (; i + 16 <= nb; i += 16) {
        uint64_t b = b0 + i;
        if ((uint32_t)b > 0xFFFFFFFFu - 15u) /* the low counter word wraps inside: scalar */
            blocks_generic(k, b, 16, out + 4 * i);
        else
            blocks16_avx2(k, &rk, b, out + 4 * i);
    }
    if (i < nb) { /* a last partial group: compute it whole, keep what is asked */
        uint32_t w[64] __attribute__((aligned(32)));
        uint64_t b = b0 + i;
        if ((uint32_t)b > 0xFFFFFFFFu - 15u || b > UINT64_MAX - 15u)
            blocks_generic(k, b, nb - i, w);
        else
            blocks16_avx2(k, &rk, b, w);
        memcpy(out + 4 * i, w, 16 * (nb - i));
    }
}

AVX2 static inline __m256 normal8(__m256i u)
{
    __m256 x = _mm256_add_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF))),
                             _mm256_set1_ps(0.5f));
    __m256i b = _mm256_castps_si256(x);
    __m256i cell = _mm256_sub_epi32(_mm256_srli_epi32(b, 17), _mm256_set1_epi32((int)CELL_BIAS));
    __m256i fb = _mm256_slli_epi32(_mm256_and_si256(b, _mm256_set1_epi32(0x1FFFF)), 6);
    __m256 f = _mm256_sub_ps(
        _mm256_castsi256_ps(_mm256_or_si256(fb, _mm256_set1_epi32(0x3F800000))),
        _mm256_set1_ps(1.0f));
    /* the 8 cells' rows (c0..c3, 16 bytes each) by plain loads, transposed: gathers are much
     * slower than this on several x86 cores */
    __m256i off = _mm256_slli_epi32(cell, 4); /* byte offsets of the rows */
    __m128i lo = _mm256_castsi256_si128(off), hi = _mm256_extracti128_si256(off, 1);
    uint64_t i01 = (uint64_t)_mm_cvtsi128_si64(lo), i23 = (uint64_t)_mm_extract_epi64(lo, 1);
    uint64_t i45 = (uint64_t)_mm_cvtsi128_si64(hi), i67 = (uint64_t)_mm_extract_epi64(hi, 1);
    const char *T = (const char *)&rows[0][0];
#define ROW(i) _mm_load_ps((const float *)(T + (uint32_t)(i)))
#define ROW2(a, b) _mm256_insertf128_ps(_mm256_castps128_ps256(ROW(a)), ROW(b), 1)
    __m256 r04 = ROW2(i01, i45), r15 = ROW2(i01 >> 32, i45 >> 32);
    __m256 r26 = ROW2(i23, i67), r37 = ROW2(i23 >> 32, i67 >> 32);
#undef ROW2
#undef ROW
    __m256 t0 = _mm256_unpacklo_ps(r04, r15), t1 = _mm256_unpackhi_ps(r04, r15);
    __m256 t2 = _mm256_unpacklo_ps(r26, r37), t3 = _mm256_unpackhi_ps(r26, r37);
    __m256 q0 = _mm256_shuffle_ps(t0, t2, 0x44), q1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 q2 = _mm256_shuffle_ps(t1, t3, 0x44), q3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 p = _mm256_mul_ps(q3, f);
    p = _mm256_add_ps(q2, p);
    p = _mm256_mul_ps(p, f);
    p = _mm256_add_ps(q1, p);
    p = _mm256_mul_ps(p, f);
    p = _mm256_add_ps(q0, p);
    __m256i sign = _mm256_and_si256(u, _mm256_set1_epi32((int)0x80000000u));
    return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_castps_si256(p), sign));
}

AVX2 static inline __m256 symmetric8(__m256i w)
{
    __m256i v = _mm256_sub_epi32(_mm256_srli_epi32(w, 8), _mm256_set1_epi32(1 << 23));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_set1_ps(1.1920928955078125e-07f));
}

AVX2 static void variate_avx2(int variate, const uint32_t *w, float *out, size_t n, float scale,
                              float offset)
{
    const __m256 vs = _mm256_set1_ps(scale), vo = _mm256_set1_ps(offset);
    size_t i = 0;
    if (variate == V_RAW) {
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(out + i, normal8(_mm256_loadu_si256((const __m256i *)(w + i))));
    } else if (variate == V_NORMAL) {
        for (; i + 8 <= n; i += 8) {
            __m256 z = normal8(_mm256_loadu_si256((const __m256i *)(w + i)));
            _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_mul_ps(vs, z), vo));
        }
    } else {
        for (; i + 8 <= n; i += 8) {
            __m256 z = symmetric8(_mm256_loadu_si256((const __m256i *)(w + i)));
            _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_mul_ps(vs, z), vo));
        }
    }
    variate_generic(variate, w + i, out + i, n - i, scale, offset);
}

/* y = x + n; count and clip to [lo, hi] (NaN passes through); returns the clipped lanes mask
 * accumulated into *cnt as -1 per lane. */
AVX2 static inline __m256 clip8(__m256 y, __m256 lo, __m256 hi, __m256i *cnt)
{
    __m256 below = _mm256_cmp_ps(y, lo, _CMP_LT_OQ);
    __m256 above = _mm256_cmp_ps(y, hi, _CMP_GT_OQ);
    *cnt = _mm256_add_epi32(*cnt, _mm256_castps_si256(_mm256_or_ps(below, above)));
    y = _mm256_blendv_ps(y, lo, below);
    return _mm256_blendv_ps(y, hi, above);
}

/* Integer outputs: y is never NaN, and -0.0 vs +0.0 does not matter after rounding, so the clip
 * can be max/min and "clipped" is y != clip(y); cvtps2dq rounds half to even (the default
 * MXCSR mode, which rint, numpy and the generic path also use). */
AVX2 static inline __m256i clip_round8(__m256 y, __m256 lo, __m256 hi, __m256i *cnt)
{
    __m256 c = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
    *cnt = _mm256_add_epi32(*cnt, _mm256_castps_si256(_mm256_cmp_ps(y, c, _CMP_NEQ_UQ)));
    return _mm256_cvtps_epi32(c);
}

AVX2 static inline int64_t hsum_neg(__m256i c)
{
    int32_t v[8];
    _mm256_storeu_si256((__m256i *)v, c);
    int64_t s = 0;
    for (int i = 0; i < 8; i++)
        s -= v[i];
    return s;
}

AVX2 static int64_t add_u8_avx2(const uint8_t *x, uint8_t *o, const float *nz, size_t n,
                                float lo, float hi)
{
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    __m256i cnt = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m128i xb = _mm_loadu_si128((const __m128i *)(x + i));
        __m128i xb2 = _mm_loadu_si128((const __m128i *)(x + i + 16));
        __m256i r[4];
        __m128i src[4] = {xb, _mm_srli_si128(xb, 8), xb2, _mm_srli_si128(xb2, 8)};
        for (int q = 0; q < 4; q++) {
            __m256 y = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(src[q]));
            y = _mm256_add_ps(y, _mm256_loadu_ps(nz + i + 8 * q));
            r[q] = clip_round8(y, vlo, vhi, &cnt);
        }
        __m256i a = _mm256_packs_epi32(r[0], r[1]); /* 0-3 8-11 | 4-7 12-15 (per lane) */
        __m256i b = _mm256_packs_epi32(r[2], r[3]);
        __m256i c = _mm256_packus_epi16(a, b);
        c = _mm256_permutevar8x32_epi32(c, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(o + i), c);
    }
    return hsum_neg(cnt) + add_u8_generic(x + i, o + i, nz + i, n - i, lo, hi);
}

AVX2 static int64_t add_u16_avx2(const uint16_t *x, uint16_t *o, const float *nz, size_t n,
                                 float lo, float hi)
{
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    __m256i cnt = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i r[2];
        for (int q = 0; q < 2; q++) {
            __m128i xv = _mm_loadu_si128((const __m128i *)(x + i + 8 * q));
            __m256 y = _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(xv));
            y = _mm256_add_ps(y, _mm256_loadu_ps(nz + i + 8 * q));
            r[q] = clip_round8(y, vlo, vhi, &cnt);
        }
        __m256i c = _mm256_packus_epi32(r[0], r[1]);
        c = _mm256_permute4x64_epi64(c, 0xD8);
        _mm256_storeu_si256((__m256i *)(o + i), c);
    }
    return hsum_neg(cnt) + add_u16_generic(x + i, o + i, nz + i, n - i, lo, hi);
}

AVX2 static int64_t add_i16_avx2(const int16_t *x, int16_t *o, const float *nz, size_t n,
                                 float lo, float hi)
{
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    __m256i cnt = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i r[2];
        for (int q = 0; q < 2; q++) {
            __m128i xv = _mm_loadu_si128((const __m128i *)(x + i + 8 * q));
            __m256 y = _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(xv));
            y = _mm256_add_ps(y, _mm256_loadu_ps(nz + i + 8 * q));
            r[q] = clip_round8(y, vlo, vhi, &cnt);
        }
        __m256i c = _mm256_packs_epi32(r[0], r[1]);
        c = _mm256_permute4x64_epi64(c, 0xD8);
        _mm256_storeu_si256((__m256i *)(o + i), c);
    }
    return hsum_neg(cnt) + add_i16_generic(x + i, o + i, nz + i, n - i, lo, hi);
}

AVX2 static int64_t add_i32_avx2(const int32_t *x, int32_t *o, const float *nz, size_t n,
                                 float lo, float hi)
{
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    __m256i cnt = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 y = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(x + i)));
        y = _mm256_add_ps(y, _mm256_loadu_ps(nz + i));
        _mm256_storeu_si256((__m256i *)(o + i), clip_round8(y, vlo, vhi, &cnt));
    }
    return hsum_neg(cnt) + add_i32_generic(x + i, o + i, nz + i, n - i, lo, hi);
}

AVX2 static int64_t add_f32_avx2(const float *x, float *o, const float *nz, size_t n, float lo,
                                 float hi)
{
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    __m256i cnt = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 y = _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(nz + i));
        _mm256_storeu_ps(o + i, clip8(y, vlo, vhi, &cnt));
    }
    return hsum_neg(cnt) + add_f32_generic(x + i, o + i, nz + i, n - i, lo, hi);
}

static int64_t add_avx2(int dt, const void *x, void *o, const float *nz, size_t n, float lo,
                        float hi)
{
    switch (dt) {
    case D_U8:
        return add_u8_avx2(x, o, nz, n, lo, hi);
    case D_U16:
        return add_u16_avx2(x, o, nz, n, lo, hi);
    case D_I16:
        return add_i16_avx2(x, o, nz, n, lo, hi);
    case D_I32:
        return add_i32_avx2(x, o, nz, n, lo, hi);
    default:
        return add_f32_avx2(x, o, nz, n, lo, hi);
    }
}

/* ---------------------------------------------------------------- AVX-512 path */

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))

/* hi/lo 32-bit halves of a * m per lane, in lane order: the even lanes' products come from
 * pe, the odd lanes' from po, and one masked in-lane shuffle puts each half in place. */
AVX512 static inline void mulhilo16(__m512i a, __m512i m, __m512i *hi, __m512i *lo)
{
    __m512i pe = _mm512_mul_epu32(a, m);
    __m512i po = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    *hi = _mm512_mask_shuffle_epi32(po, 0x5555, pe, _MM_PERM_CDAB);
    *lo = _mm512_mask_shuffle_epi32(pe, 0xAAAA, po, _MM_PERM_CDAB);
}

/* 32 blocks (two groups of 16 lanes) -> 128 interleaved words; the same rounds as
 * philox_block, with the two xors of a round as one ternary-logic op. */
AVX512 static inline void blocks32_avx512(const nc_key *k, const uint32_t *k0s,
                                          const uint32_t *k1s, uint64_t b0, uint32_t *out)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i m0 = _mm512_set1_epi32((int)M0), m1 = _mm512_set1_epi32((int)M1);
    __m512i c0[2], c1[2], c2[2], c3[2];
    for (int g = 0; g < 2; g++) {
        uint64_t b = b0 + 16u * (uint64_t)g;
        c0[g] = _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)b), iota);
        c1[g] = _mm512_set1_epi32((int)(uint32_t)(b >> 32));
        c2[g] = _mm512_set1_epi32((int)k->k2);
        c3[g] = _mm512_set1_epi32((int)k->k3);
    }
    for (int r = 0; r < ROUNDS; r++) {
        const __m512i rk0 = _mm512_set1_epi32((int)k0s[r]), rk1 = _mm512_set1_epi32((int)k1s[r]);
        for (int g = 0; g < 2; g++) {
            __m512i hi0, lo0, hi1, lo1;
            mulhilo16(c0[g], m0, &hi0, &lo0);
            mulhilo16(c2[g], m1, &hi1, &lo1);
            c0[g] = _mm512_ternarylogic_epi32(hi1, c1[g], rk0, 0x96); /* a ^ b ^ c */
            c2[g] = _mm512_ternarylogic_epi32(hi0, c3[g], rk1, 0x96);
            c1[g] = lo1;
            c3[g] = lo0;
        }
    }
    for (int g = 0; g < 2; g++) {
        __m512i t0 = _mm512_unpacklo_epi32(c0[g], c1[g]);
        __m512i t1 = _mm512_unpacklo_epi32(c2[g], c3[g]);
        __m512i t2 = _mm512_unpackhi_epi32(c0[g], c1[g]);
        __m512i t3 = _mm512_unpackhi_epi32(c2[g], c3[g]);
        __m512i r0 = _mm512_unpacklo_epi64(t0, t1); /* blocks 0 | 4 | 8 | 12 */
        __m512i r1 = _mm512_unpackhi_epi64(t0, t1); /* blocks 1 | 5 | 9 | 13 */
        __m512i r2 = _mm512_unpacklo_epi64(t2, t3); /* blocks 2 | 6 | 10 | 14 */
        __m512i r3 = _mm512_unpackhi_epi64(t2, t3); /* blocks 3 | 7 | 11 | 15 */
        __m512i u0 = _mm512_shuffle_i32x4(r0, r1, _MM_SHUFFLE(2, 0, 2, 0)); /* 0 8 1 9 */
        __m512i u1 = _mm512_shuffle_i32x4(r2, r3, _MM_SHUFFLE(2, 0, 2, 0)); /* 2 10 3 11 */
        __m512i u2 = _mm512_shuffle_i32x4(r0, r1, _MM_SHUFFLE(3, 1, 3, 1)); /* 4 12 5 13 */
        __m512i u3 = _mm512_shuffle_i32x4(r2, r3, _MM_SHUFFLE(3, 1, 3, 1)); /* 6 14 7 15 */
        uint32_t *dst = out + 64 * g;
        _mm512_storeu_si512(dst + 0, _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(2, 0, 2, 0)));
        _mm512_storeu_si512(dst + 16, _mm512_shuffle_i32x4(u2, u3, _MM_SHUFFLE(2, 0, 2, 0)));
        _mm512_storeu_si512(dst + 32, _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));
        _mm512_storeu_si512(dst + 48, _mm512_shuffle_i32x4(u2, u3, _MM_SHUFFLE(3, 1, 3, 1)));
    }
}

AVX512 static void blocks_avx512(const nc_key *k, uint64_t b0, size_t nb, uint32_t *out)
{
    uint32_t k0s[ROUNDS], k1s[ROUNDS];
    uint32_t k0 = k->k0, k1 = k->k1;
    for (int r = 0; r < ROUNDS; r++) {
        k0s[r] = k0;
        k1s[r] = k1;
        k0 += W0;
        k1 += W1;
    }
    size_t i = 0;
    for (; i + 32 <= nb; i += 32) {
        uint64_t b = b0 + i;
        if ((uint32_t)b > 0xFFFFFFFFu - 31u) /* the low counter word wraps inside: scalar */
            blocks_generic(k, b, 32, out + 4 * i);
        else
            blocks32_avx512(k, k0s, k1s, b, out + 4 * i);
    }
    if (i < nb) { /* a last partial group: compute it whole, keep what is asked */
        uint32_t w[128] __attribute__((aligned(64)));
        uint64_t b = b0 + i;
        if ((uint32_t)b > 0xFFFFFFFFu - 31u || b > UINT64_MAX - 31u)
            blocks_generic(k, b, nb - i, w);
        else
            blocks32_avx512(k, k0s, k1s, b, w);
        memcpy(out + 4 * i, w, 16 * (nb - i));
    }
}

/* normal1 on 16 lanes: the cells' rows by plain 128-bit loads, four to a vector, then the
 * same in-lane 4x4 transposes as normal8. */
AVX512 static inline __m512 normal16(__m512i u)
{
    __m512 x = _mm512_add_ps(
        _mm512_cvtepi32_ps(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF))),
        _mm512_set1_ps(0.5f));
    __m512i b = _mm512_castps_si512(x);
    __m512i cell = _mm512_sub_epi32(_mm512_srli_epi32(b, 17), _mm512_set1_epi32((int)CELL_BIAS));
    __m512i fb = _mm512_slli_epi32(_mm512_and_si512(b, _mm512_set1_epi32(0x1FFFF)), 6);
    __m512 f = _mm512_sub_ps(
        _mm512_castsi512_ps(_mm512_or_si512(fb, _mm512_set1_epi32(0x3F800000))),
        _mm512_set1_ps(1.0f));
    /* byte offsets of the rows, two per 64-bit register; the empty asm keeps gcc from turning
     * the loads into gathers, which are several times slower on the x86 cores measured */
    __m512i off = _mm512_slli_epi32(cell, 4);
    uint64_t ix[8];
#define LANE(q)                                                                                \
    do {                                                                                       \
        __m128i l = _mm512_extracti32x4_epi32(off, q);                                         \
        ix[2 * q] = (uint64_t)_mm_cvtsi128_si64(l);                                            \
        ix[2 * q + 1] = (uint64_t)_mm_extract_epi64(l, 1);                                     \
        __asm__("" : "+r"(ix[2 * q]), "+r"(ix[2 * q + 1]));                                    \
    } while (0)
    LANE(0);
    LANE(1);
    LANE(2);
    LANE(3);
#undef LANE
    const char *T = (const char *)&rows[0][0];
#define ROW(i) _mm_load_ps((const float *)(T + (uint32_t)(ix[(i) / 2] >> (32 * ((i) % 2)))))
#define ROW4(a, b, c, d)                                                                       \
    _mm512_insertf32x4(                                                                        \
        _mm512_insertf32x4(_mm512_insertf32x4(_mm512_castps128_ps512(ROW(a)), ROW(b), 1),      \
                           ROW(c), 2),                                                         \
        ROW(d), 3)
    __m512 ra = ROW4(0, 4, 8, 12), rb = ROW4(1, 5, 9, 13);
    __m512 rc = ROW4(2, 6, 10, 14), rd = ROW4(3, 7, 11, 15);
#undef ROW4
#undef ROW
    __m512 t0 = _mm512_unpacklo_ps(ra, rb), t1 = _mm512_unpackhi_ps(ra, rb);
    __m512 t2 = _mm512_unpacklo_ps(rc, rd), t3 = _mm512_unpackhi_ps(rc, rd);
    __m512 q0 = _mm512_shuffle_ps(t0, t2, 0x44), q1 = _mm512_shuffle_ps(t0, t2, 0xEE);
    __m512 q2 = _mm512_shuffle_ps(t1, t3, 0x44), q3 = _mm512_shuffle_ps(t1, t3, 0xEE);
    __m512 p = _mm512_mul_ps(q3, f);
    p = _mm512_add_ps(q2, p);
    p = _mm512_mul_ps(p, f);
    p = _mm512_add_ps(q1, p);
    p = _mm512_mul_ps(p, f);
    p = _mm512_add_ps(q0, p);
    __m512i sign = _mm512_and_si512(u, _mm512_set1_epi32((int)0x80000000u));
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(p), sign));
}

AVX512 static inline __m512 symmetric16(__m512i w)
{
    __m512i v = _mm512_sub_epi32(_mm512_srli_epi32(w, 8), _mm512_set1_epi32(1 << 23));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_set1_ps(1.1920928955078125e-07f));
}

AVX512 static void variate_avx512(int variate, const uint32_t *w, float *out, size_t n,
                                  float scale, float offset)
{
    const __m512 vs = _mm512_set1_ps(scale), vo = _mm512_set1_ps(offset);
    size_t i = 0;
    if (variate == V_RAW) {
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(out + i, normal16(_mm512_loadu_si512(w + i)));
    } else if (variate == V_NORMAL) {
        for (; i + 16 <= n; i += 16) {
            __m512 z = normal16(_mm512_loadu_si512(w + i));
            _mm512_storeu_ps(out + i, _mm512_add_ps(_mm512_mul_ps(vs, z), vo));
        }
    } else {
        for (; i + 16 <= n; i += 16) {
            __m512 z = symmetric16(_mm512_loadu_si512(w + i));
            _mm512_storeu_ps(out + i, _mm512_add_ps(_mm512_mul_ps(vs, z), vo));
        }
    }
    variate_generic(variate, w + i, out + i, n - i, scale, offset);
}

/* Integer outputs: as clip_round8 (max/min, "clipped" is y != clip(y), cvtps2dq rounds half to
 * even); the count is the popcount of the mask. */
AVX512 static inline __m512i clip_round16(__m512 y, __m512 lo, __m512 hi, int64_t *cnt)
{
    __m512 c = _mm512_min_ps(_mm512_max_ps(y, lo), hi);
    *cnt += __builtin_popcount((unsigned)_mm512_cmp_ps_mask(y, c, _CMP_NEQ_UQ));
    return _mm512_cvtps_epi32(c);
}

/* The noise of 16 values: loaded from nz, or (nz == NULL) made here from 16 words, as
 * variate_avx512 makes it (scale * z + offset), without the round trip through memory. */
#define AVX512_INLINE AVX512 static inline __attribute__((always_inline))
AVX512_INLINE __m512 noise16(int v, const float *nz, const uint32_t *w, size_t i, __m512 vs,
                             __m512 vo)
{
    if (nz != NULL)
        return _mm512_loadu_ps(nz + i);
    __m512i u = _mm512_loadu_si512(w + i);
    __m512 z = v == V_NORMAL ? normal16(u) : symmetric16(u);
    return _mm512_add_ps(_mm512_mul_ps(vs, z), vo);
}

/* The generic tail of an AVX-512 add: from nz, or from the words through variate_generic. */
#define TAIL(GENERIC, CNT, xs, os)                                                             \
    do {                                                                                       \
        float t_[32] = {0};                                                                    \
        if (nz == NULL) {                                                                      \
            variate_generic(v, w + i, t_, n - i, scale, offset);                               \
            return CNT + GENERIC(xs + i, os + i, t_, n - i, lo, hi);                           \
        }                                                                                      \
        return CNT + GENERIC(xs + i, os + i, nz + i, n - i, lo, hi);                           \
    } while (0)

#define ADD_ARGS(T)                                                                            \
    int v, const T *x, T *o, const float *nz, const uint32_t *w, size_t n, float scale,        \
        float offset, float lo, float hi

/* The integer adds differ only in how 16 samples widen to int32 and narrow back (with
 * saturation, though the clip already keeps every value in range). */
#define ADD16_INT(T, NAME, LOAD, STORE)                                                        \
    AVX512_INLINE int64_t add_##NAME##_avx512(ADD_ARGS(T))                                     \
    {                                                                                          \
        const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);                       \
        const __m512 vs = _mm512_set1_ps(scale), vo = _mm512_set1_ps(offset);                  \
        int64_t cnt = 0;                                                                       \
        size_t i = 0;                                                                          \
        for (; i + 16 <= n; i += 16) {                                                         \
            __m512 y = _mm512_add_ps(_mm512_cvtepi32_ps(LOAD(x + i)),                          \
                                     noise16(v, nz, w, i, vs, vo));                            \
            STORE(o + i, clip_round16(y, vlo, vhi, &cnt));                                     \
        }                                                                                      \
        TAIL(add_##NAME##_generic, cnt, x, o);                                                 \
    }
#define LOAD_U8(p) _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p)))
#define LOAD_U16(p) _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p)))
#define LOAD_I16(p) _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)(p)))
#define LOAD_I32(p) _mm512_loadu_si512(p)
#define STORE_U8(p, r) _mm_storeu_si128((__m128i *)(p), _mm512_cvtusepi32_epi8(r))
#define STORE_U16(p, r) _mm256_storeu_si256((__m256i *)(p), _mm512_cvtusepi32_epi16(r))
#define STORE_I16(p, r) _mm256_storeu_si256((__m256i *)(p), _mm512_cvtsepi32_epi16(r))
#define STORE_I32(p, r) _mm512_storeu_si512(p, r)
ADD16_INT(uint8_t, u8, LOAD_U8, STORE_U8)
ADD16_INT(uint16_t, u16, LOAD_U16, STORE_U16)
ADD16_INT(int16_t, i16, LOAD_I16, STORE_I16)
ADD16_INT(int32_t, i32, LOAD_I32, STORE_I32)
#undef ADD16_INT

/* Floats: NaN passes through, so the clip is two compares and two blends, as clip8. */
AVX512_INLINE int64_t add_f32_avx512(ADD_ARGS(float))
{
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const __m512 vs = _mm512_set1_ps(scale), vo = _mm512_set1_ps(offset);
    int64_t cnt = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 y = _mm512_add_ps(_mm512_loadu_ps(x + i), noise16(v, nz, w, i, vs, vo));
        __mmask16 below = _mm512_cmp_ps_mask(y, vlo, _CMP_LT_OQ);
        __mmask16 above = _mm512_cmp_ps_mask(y, vhi, _CMP_GT_OQ);
        cnt += __builtin_popcount((unsigned)(below | above));
        y = _mm512_mask_mov_ps(y, below, vlo);
        _mm512_storeu_ps(o + i, _mm512_mask_mov_ps(y, above, vhi));
    }
    TAIL(add_f32_generic, cnt, x, o);
}
#undef TAIL
#undef ADD_ARGS

/* One dtype's add, specialised for a noise buffer (nz) or for words of variate V. */
#define ADD_SWITCH(ISA, V, NZ, W)                                                              \
    switch (dt) {                                                                              \
    case D_U8:                                                                                 \
        return add_u8_##ISA(V, x, o, NZ, W, n, scale, offset, lo, hi);                         \
    case D_U16:                                                                                \
        return add_u16_##ISA(V, x, o, NZ, W, n, scale, offset, lo, hi);                        \
    case D_I16:                                                                                \
        return add_i16_##ISA(V, x, o, NZ, W, n, scale, offset, lo, hi);                        \
    case D_I32:                                                                                \
        return add_i32_##ISA(V, x, o, NZ, W, n, scale, offset, lo, hi);                        \
    default:                                                                                   \
        return add_f32_##ISA(V, x, o, NZ, W, n, scale, offset, lo, hi);                        \
    }

AVX512 static int64_t add_avx512(int dt, const void *x, void *o, const float *nz, size_t n,
                                 float lo, float hi)
{
    const float scale = 1.0f, offset = 0.0f;
    ADD_SWITCH(avx512, V_RAW, nz, NULL)
}

/* x + (scale * variate(w) + offset), clipped and rounded, in one pass over 16 values. */
AVX512 static int64_t add_words_avx512(int v, int dt, const void *x, void *o, const uint32_t *w,
                                       size_t n, float scale, float offset, float lo, float hi)
{
    if (v == V_NORMAL)
        ADD_SWITCH(avx512, V_NORMAL, NULL, w)
    ADD_SWITCH(avx512, V_UNIFORM, NULL, w)
}
#undef ADD_SWITCH
#endif /* NC_X86 */

/* ---------------------------------------------------------------- dispatch */

static void blocks(const nc_key *k, uint64_t b0, size_t nb, uint32_t *out)
{
#if NC_X86
    if (isa == ISA_AVX512) {
        blocks_avx512(k, b0, nb, out);
        return;
    }
    if (isa == ISA_AVX2) {
        blocks_avx2(k, b0, nb, out);
        return;
    }
#endif
    blocks_generic(k, b0, nb, out);
}

static void variate(int v, const uint32_t *w, float *out, size_t n, float scale, float offset)
{
#if NC_X86
    if (isa == ISA_AVX512) {
        variate_avx512(v, w, out, n, scale, offset);
        return;
    }
    if (isa == ISA_AVX2) {
        variate_avx2(v, w, out, n, scale, offset);
        return;
    }
#endif
    variate_generic(v, w, out, n, scale, offset);
}

static int64_t add_chunk(int dt, const void *x, void *o, const float *nz, size_t n, float lo,
                         float hi)
{
#if NC_X86
    if (isa == ISA_AVX512)
        return add_avx512(dt, x, o, nz, n, lo, hi);
    if (isa == ISA_AVX2)
        return add_avx2(dt, x, o, nz, n, lo, hi);
#endif
    return add_generic(dt, x, o, nz, n, lo, hi);
}

/* ex[q * repeat + r] = nz[q] for q < nw, r < repeat (2 <= repeat). */
static void expand_generic(const float *nz, size_t nw, size_t repeat, float *ex)
{
    for (size_t q = 0; q < nw; q++)
        for (size_t r = 0; r < repeat; r++)
            ex[q * repeat + r] = nz[q];
}

#if NC_X86
/* 8 words at a time for repeat <= 8: output vector v (of `repeat`) holds words
 * (8v + i) / repeat, all within 8 words of (8v) / repeat; nz must have 8 readable floats past
 * nw. */
AVX2 static void expand_avx2(const float *nz, size_t nw, size_t repeat, float *ex)
{
    __m256i idx[8];
    size_t base[8];
    for (size_t v = 0; v < repeat; v++) {
        int32_t t[8];
        base[v] = 8 * v / repeat;
        for (size_t i = 0; i < 8; i++)
            t[i] = (int32_t)((8 * v + i) / repeat - base[v]);
        idx[v] = _mm256_loadu_si256((const __m256i *)t);
    }
    size_t q = 0;
    for (; q + 8 <= nw; q += 8)
        for (size_t v = 0; v < repeat; v++)
            _mm256_storeu_ps(ex + q * repeat + 8 * v,
                             _mm256_permutevar8x32_ps(_mm256_loadu_ps(nz + q + base[v]), idx[v]));
    expand_generic(nz + q, nw - q, repeat, ex + q * repeat);
}
#endif

static void expand(const float *nz, size_t nw, size_t repeat, float *ex)
{
#if NC_X86
    if (isa != ISA_GENERIC && repeat <= 8) {
        expand_avx2(nz, nw, repeat, ex);
        return;
    }
#endif
    expand_generic(nz, nw, repeat, ex);
}

/* Words [pos, pos + n) (pos = 4 * block + phase, phase < 4) into dst; n <= CHUNK. */
static void words_at(const nc_key *k, uint64_t block, int phase, size_t n, uint32_t *dst)
{
    uint32_t tmp[CHUNK + 8] __attribute__((aligned(32)));
    size_t nb = ((size_t)phase + n + 3) / 4;
    if (phase == 0 && (n & 3) == 0) {
        blocks(k, block, nb, dst);
        return;
    }
    blocks(k, block, nb, tmp);
    memcpy(dst, tmp + phase, n * 4);
}

/* Variates of words [pos, pos + n) into dst (n <= CHUNK). (Fusing Philox and the variate in
 * registers measured slower than this L1 round trip: register pressure.) */
static void noise_at(int v, const nc_key *k, uint64_t block, int phase, size_t n, float *dst,
                     float scale, float offset)
{
    uint32_t w[CHUNK] __attribute__((aligned(32)));
    words_at(k, block, phase, n, w);
    variate(v, w, dst, n, scale, offset);
}

static const size_t itemsize[5] = {1, 2, 2, 4, 4};

/* scale * z + offset, as the variates compute it (no FMA: -ffp-contract=off) */
static void scaled(const float *z, float *out, size_t n, float scale, float offset)
{
    for (size_t i = 0; i < n; i++)
        out[i] = scale * z[i] + offset;
}

/* Noise for words [pos, pos + nwords) added to samples x[0 .. n): sample j uses word
 * pos + j / repeat, or, when z is given, the value z[j / repeat] (normals made before, so
 * that a second pass need not make them again). Returns the clipped count. */
static int64_t add_run(int v, int dt, const char *x, char *o, size_t n, const nc_key *k,
                       uint64_t block, int phase, float scale, float offset, float lo, float hi,
                       size_t repeat, const float *z)
{
    float nz[CHUNK + 8] __attribute__((aligned(32))); /* + 8: expand_avx2 may read past */
    float ex[CHUNK] __attribute__((aligned(32)));
    const size_t isz = itemsize[dt];
    int64_t clipped = 0;
    size_t j = 0;
    while (j < n) {
        size_t nw = (n - j + repeat - 1) / repeat;
        if (nw > CHUNK)
            nw = CHUNK;
#if NC_X86
        /* AVX-512: variate and add fused in registers (with AVX2 the same fusion measured a
         * few per cent slower than the round trip through nz: fewer registers) */
        if (isa == ISA_AVX512 && repeat == 1 && z == NULL) {
            uint32_t w[CHUNK] __attribute__((aligned(64)));
            words_at(k, block, phase, nw, w);
            clipped += add_words_avx512(v, dt, x + j * isz, o + j * isz, w, nw, scale, offset, lo,
                                        hi);
            j += nw;
            block += (phase + nw) / 4;
            phase = (int)((phase + nw) % 4);
            continue;
        }
#endif
        if (z != NULL) {
            scaled(z, nz, nw, scale, offset);
            z += nw;
        } else
            noise_at(v, k, block, phase, nw, nz, scale, offset);
        block += nw / 4;
        phase += (int)(nw % 4);
        if (phase >= 4) {
            phase -= 4;
            block++;
        }
        if (repeat == 1) {
            clipped += add_chunk(dt, x + j * isz, o + j * isz, nz, nw, lo, hi);
            j += nw;
            continue;
        }
        /* expand each value over `repeat` samples, at most CHUNK samples at a time */
        size_t total = nw * repeat;
        if (total > n - j)
            total = n - j;
        if (repeat > CHUNK) { /* one word over more than CHUNK samples */
            for (size_t wi = 0, done = 0; done < total; wi++) {
                for (size_t q = 0; q < CHUNK; q++)
                    ex[q] = nz[wi];
                for (size_t left = repeat; left && done < total;) {
                    size_t piece = left < CHUNK ? left : CHUNK;
                    if (piece > total - done)
                        piece = total - done;
                    clipped += add_chunk(dt, x + (j + done) * isz, o + (j + done) * isz, ex, piece,
                                         lo, hi);
                    done += piece;
                    left -= piece;
                }
            }
        } else {
            size_t per = CHUNK / repeat; /* whole words per piece */
            if (per >= 8)
                per &= ~(size_t)7;
            for (size_t w0 = 0, done = 0; done < total; w0 += per) {
                size_t cnt = nw - w0 < per ? nw - w0 : per;
                expand(nz + w0, cnt, repeat, ex);
                size_t m = cnt * repeat;
                if (m > total - done)
                    m = total - done;
                clipped += add_chunk(dt, x + (j + done) * isz, o + (j + done) * isz, ex, m, lo, hi);
                done += m;
            }
        }
        j += total;
    }
    return clipped;
}


/* ---------------------------------------------------------------- exact sums of squares */

/* Σ floor(z² · 2**40) over float32 normals (|z| < 8): with z = m · 2**(e - 150) (m the 24-bit
 * significand, e the biased exponent) that is m² >> (260 - 2e), exact in 64-bit integers,
 * and equal to the twin's float64 product truncated (both are exact). n <= 2**17 keeps the
 * sum below 2**63. Compiled once per code path so that gcc vectorises it for each. */
typedef uint32_t __attribute__((may_alias)) u32_alias;
#define SQUARES_NORMAL_BODY                                                                    \
    {                                                                                          \
        uint64_t s = 0;                                                                        \
        for (size_t i = 0; i < n; i++) {                                                       \
            uint32_t u = z[i];                                                                 \
            uint32_t sh = 260u - 2u * ((u >> 23) & 0xFFu);                                     \
            uint64_t m = (u & 0x7FFFFFu) | 0x800000u;                                          \
            s += sh < 64u ? (m * m) >> sh : 0u;                                                \
        }                                                                                      \
        return s;                                                                              \
    }
/* The same sum in float64: (z · 2**20)² is z² · 2**40 exactly (a float32 times a power of
 * two, then a 48-bit product), so its truncation is the same integer; with AVX-512DQ
 * the conversion is one instruction for 8 lanes. */
#define SQUARES_NORMAL_F64_BODY                                                                \
    {                                                                                          \
        int64_t s = 0;                                                                         \
        for (size_t i = 0; i < n; i++) {                                                       \
            double y = (double)(z[i] * 0x1p20f);                                               \
            s += (int64_t)(y * y);                                                             \
        }                                                                                      \
        return (uint64_t)s;                                                                    \
    }
/* Σ x² or Σ (y - x)² of int16 values, exact (each term < 2**32; n < 2**31). */
#define SQUARES_I16_BODY                                                                       \
    {                                                                                          \
        uint64_t s = 0;                                                                        \
        if (y == NULL)                                                                         \
            for (size_t i = 0; i < n; i++) {                                                   \
                uint32_t a = (uint32_t)(x[i] < 0 ? -x[i] : x[i]);                              \
                s += a * a;                                                                    \
            }                                                                                  \
        else                                                                                   \
            for (size_t i = 0; i < n; i++) {                                                   \
                int32_t d = (int32_t)y[i] - (int32_t)x[i];                                     \
                uint32_t a = (uint32_t)(d < 0 ? -d : d);                                       \
                s += (uint64_t)(a * a);                                                        \
            }                                                                                  \
        return s;                                                                              \
    }

static uint64_t squares_normal_generic(const u32_alias *z, size_t n) SQUARES_NORMAL_BODY;
static uint64_t squares_i16_generic(const int16_t *x, const int16_t *y, size_t n) SQUARES_I16_BODY;
#if NC_X86
AVX2 static uint64_t squares_normal_avx2(const u32_alias *z, size_t n) SQUARES_NORMAL_BODY;
AVX2 static uint64_t squares_i16_avx2(const int16_t *x, const int16_t *y, size_t n) SQUARES_I16_BODY;
AVX512 static uint64_t squares_normal_avx512(const float *z, size_t n) SQUARES_NORMAL_F64_BODY;
AVX512 static uint64_t squares_i16_avx512(const int16_t *x, const int16_t *y,
                                          size_t n) SQUARES_I16_BODY;
#endif

static uint64_t squares_normal(const float *z, size_t n)
{
    const u32_alias *u = (const u32_alias *)z;
#if NC_X86
    if (isa == ISA_AVX512)
        return squares_normal_avx512(z, n);
    if (isa == ISA_AVX2)
        return squares_normal_avx2(u, n);
#endif
    return squares_normal_generic(u, n);
}

static uint64_t squares_i16(const int16_t *x, const int16_t *y, size_t n)
{
#if NC_X86
    if (isa == ISA_AVX512)
        return squares_i16_avx512(x, y, n);
    if (isa == ISA_AVX2)
        return squares_i16_avx2(x, y, n);
#endif
    return squares_i16_generic(x, y, n);
}

/* ---------------------------------------------------------------- Python interface */

static int get_key(PyObject *args, nc_key *k, unsigned long long *block, int *phase,
                   Py_buffer *out)
{
    return PyArg_ParseTuple(args, "IIIIKiw*", &k->k0, &k->k1, &k->k2, &k->k3, block, phase,
                            out);
}

static int need_table(void)
{
    if (!table_ready) {
        PyErr_SetString(PyExc_RuntimeError, "normal table not loaded (call set_table)");
        return 0;
    }
    return 1;
}

static PyObject *py_set_table(PyObject *self, PyObject *args)
{
    Py_buffer b;
    if (!PyArg_ParseTuple(args, "y*", &b))
        return NULL;
    if (b.len != (Py_ssize_t)(NCELLS * 4 * sizeof(float))) {
        PyBuffer_Release(&b);
        PyErr_SetString(PyExc_ValueError, "table must be 2112 x 4 little-endian float32");
        return NULL;
    }
    const unsigned char *p = b.buf;
    for (int c = 0; c < NCELLS; c++)
        for (int j = 0; j < 4; j++) {
            const unsigned char *q = p + 4 * (4 * c + j);
            uint32_t u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
                         (uint32_t)q[3] << 24;
            rows[c][j] = f32_from_bits(u);
        }
    PyBuffer_Release(&b);
    table_ready = 1;
    Py_RETURN_NONE;
}

static PyObject *py_bits(PyObject *self, PyObject *args)
{
    nc_key k;
    unsigned long long block;
    int phase;
    Py_buffer out;
    if (!get_key(args, &k, &block, &phase, &out))
        return NULL;
    size_t n = (size_t)out.len / 4;
    uint32_t *dst = out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        words_at(&k, block + i / 4, phase, m, dst + i);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

static PyObject *variate_py(PyObject *args, int uniform)
{
    nc_key k;
    unsigned long long block;
    int phase;
    Py_buffer out;
    if (!uniform && !need_table())
        return NULL;
    if (!get_key(args, &k, &block, &phase, &out))
        return NULL;
    size_t n = (size_t)out.len / 4;
    float *dst = out.buf;
    Py_BEGIN_ALLOW_THREADS
    uint32_t w[CHUNK] __attribute__((aligned(32)));
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        if (uniform) {
            words_at(&k, block + i / 4, phase, m, w);
            for (size_t q = 0; q < m; q++)
                dst[i + q] = (float)(w[q] >> 8) * 5.9604644775390625e-08f;
        } else {
            noise_at(V_RAW, &k, block + i / 4, phase, m, dst + i, 1.0f, 0.0f);
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

static PyObject *py_normal(PyObject *self, PyObject *args) { return variate_py(args, 0); }
static PyObject *py_uniform(PyObject *self, PyObject *args) { return variate_py(args, 1); }

static PyObject *py_normal_from_bits(PyObject *self, PyObject *args)
{
    Py_buffer in, out;
    if (!need_table())
        return NULL;
    if (!PyArg_ParseTuple(args, "y*w*", &in, &out))
        return NULL;
    if (in.len != out.len || in.len % 4) {
        PyBuffer_Release(&in);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "u and out must have the same number of 4-byte items");
        return NULL;
    }
    size_t n = (size_t)in.len / 4;
    const uint32_t *u = in.buf;
    float *dst = out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        variate(V_RAW, u + i, dst + i, m, 1.0f, 0.0f);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&in);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

static PyObject *py_add(PyObject *self, PyObject *args)
{
    int v, dt, phase;
    Py_buffer x, o;
    nc_key k;
    unsigned long long block;
    double scale, offset, lo, hi;
    Py_ssize_t repeat;
    if (!PyArg_ParseTuple(args, "iiy*w*IIIIKiddddn", &v, &dt, &x, &o, &k.k0, &k.k1, &k.k2,
                          &k.k3, &block, &phase, &scale, &offset, &lo, &hi, &repeat))
        return NULL;
    if (dt < 0 || dt > 4 || (v != V_NORMAL && v != V_UNIFORM) || repeat < 1 || phase < 0 ||
        phase > 3 || x.len != o.len || x.len % (Py_ssize_t)itemsize[dt]) {
        PyBuffer_Release(&x);
        PyBuffer_Release(&o);
        PyErr_SetString(PyExc_ValueError, "bad arguments to add");
        return NULL;
    }
    if (v == V_NORMAL && !table_ready) {
        PyBuffer_Release(&x);
        PyBuffer_Release(&o);
        return need_table(), NULL;
    }
    size_t n = (size_t)x.len / itemsize[dt];
    int64_t clipped;
    Py_BEGIN_ALLOW_THREADS
    clipped = add_run(v, dt, x.buf, o.buf, n, &k, block, phase, (float)scale, (float)offset,
                      (float)lo, (float)hi, (size_t)repeat, NULL);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&x);
    PyBuffer_Release(&o);
    return PyLong_FromLongLong(clipped);
}

static PyObject *py_add_values(PyObject *self, PyObject *args)
{
    int dt;
    Py_buffer x, o, z;
    double scale, offset, lo, hi;
    Py_ssize_t repeat;
    if (!PyArg_ParseTuple(args, "iy*w*y*ddddn", &dt, &x, &o, &z, &scale, &offset, &lo, &hi,
                          &repeat))
        return NULL;
    size_t n = dt >= 0 && dt <= 4 ? (size_t)x.len / itemsize[dt] : 0;
    if (dt < 0 || dt > 4 || repeat < 1 || x.len != o.len || x.len % (Py_ssize_t)itemsize[dt] ||
        z.len % 4 || (size_t)z.len / 4 < (n + (size_t)repeat - 1) / (size_t)repeat) {
        PyBuffer_Release(&x);
        PyBuffer_Release(&o);
        PyBuffer_Release(&z);
        PyErr_SetString(PyExc_ValueError, "bad arguments to add_values");
        return NULL;
    }
    nc_key k = {0, 0, 0, 0};
    int64_t clipped;
    Py_BEGIN_ALLOW_THREADS
    clipped = add_run(V_NORMAL, dt, x.buf, o.buf, n, &k, 0, 0, (float)scale, (float)offset,
                      (float)lo, (float)hi, (size_t)repeat, z.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&x);
    PyBuffer_Release(&o);
    PyBuffer_Release(&z);
    return PyLong_FromLongLong(clipped);
}

/* Σ floor(z² · 2**40) over n <= 2**17 normals; with an output buffer the normals are written
 * there too (the sum taken while each chunk is in L1), for a caller that keeps them. */
static PyObject *py_square_sum_normal(PyObject *self, PyObject *args)
{
    nc_key k;
    unsigned long long block;
    int phase;
    Py_ssize_t n;
    PyObject *outobj = Py_None;
    Py_buffer out = {0};
    if (!need_table())
        return NULL;
    if (!PyArg_ParseTuple(args, "IIIIKin|O", &k.k0, &k.k1, &k.k2, &k.k3, &block, &phase, &n,
                          &outobj))
        return NULL;
    if (n < 0 || n > (1 << 17) || phase < 0 || phase > 3) {
        PyErr_SetString(PyExc_ValueError, "square_sum_normal: 0 <= n <= 2**17, phase < 4");
        return NULL;
    }
    if (outobj != Py_None) {
        if (PyObject_GetBuffer(outobj, &out, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0)
            return NULL;
        if (out.len != n * 4) {
            PyBuffer_Release(&out);
            PyErr_SetString(PyExc_ValueError, "square_sum_normal: out must hold n float32");
            return NULL;
        }
    }
    uint64_t total = 0;
    Py_BEGIN_ALLOW_THREADS
    float tmp[CHUNK] __attribute__((aligned(64)));
    for (size_t i = 0; i < (size_t)n; i += CHUNK) {
        size_t m = (size_t)n - i < CHUNK ? (size_t)n - i : CHUNK;
        uint64_t pos = 4 * (uint64_t)block + (uint64_t)phase + i;
        float *z = outobj != Py_None ? (float *)out.buf + i : tmp;
        noise_at(V_RAW, &k, pos >> 2, (int)(pos & 3), m, z, 1.0f, 0.0f);
        total += squares_normal(z, m);
    }
    Py_END_ALLOW_THREADS
    if (outobj != Py_None)
        PyBuffer_Release(&out);
    return PyLong_FromUnsignedLongLong(total);
}

static PyObject *py_square_sum_i16(PyObject *self, PyObject *args)
{
    Py_buffer x, y = {0};
    PyObject *yobj = Py_None;
    if (!PyArg_ParseTuple(args, "y*|O", &x, &yobj))
        return NULL;
    if (yobj != Py_None && PyObject_GetBuffer(yobj, &y, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&x);
        return NULL;
    }
    size_t n = (size_t)x.len / 2;
    if (x.len % 2 || (yobj != Py_None && y.len != x.len) || n >= ((size_t)1 << 31)) {
        PyBuffer_Release(&x);
        if (yobj != Py_None)
            PyBuffer_Release(&y);
        PyErr_SetString(PyExc_ValueError, "square_sum_i16: int16 buffers of one size, < 2**31");
        return NULL;
    }
    uint64_t total;
    Py_BEGIN_ALLOW_THREADS
    total = squares_i16(x.buf, yobj != Py_None ? y.buf : NULL, n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&x);
    if (yobj != Py_None)
        PyBuffer_Release(&y);
    return PyLong_FromUnsignedLongLong(total);
}

static const char *const isa_names[] = {"generic", "avx2", "avx512"};

static PyObject *py_isa(PyObject *self, PyObject *noargs)
{
    return PyUnicode_FromString(isa_names[isa]);
}

/* The best code path this CPU runs: AVX-512 needs F, BW, DQ and VL (x86-64-v4). */
static int best_isa(void)
{
#if NC_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return ISA_AVX512;
    if (__builtin_cpu_supports("avx2"))
        return ISA_AVX2;
#endif
    return ISA_GENERIC;
}

static PyObject *py_set_isa(PyObject *self, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name))
        return NULL;
    for (int i = best_isa(); i >= 0; i--)
        if (strcmp(name, isa_names[i]) == 0) {
            isa = i;
            Py_RETURN_NONE;
        }
    PyErr_Format(PyExc_ValueError, "code path %s not available", name);
    return NULL;
}

static PyObject *py_available(PyObject *self, PyObject *noargs)
{
    int best = best_isa();
    PyObject *t = PyTuple_New(best + 1);
    if (t == NULL)
        return NULL;
    for (int i = best; i >= 0; i--) {
        PyObject *name = PyUnicode_FromString(isa_names[i]);
        if (name == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, best - i, name);
    }
    return t;
}

static PyMethodDef methods[] = {
    {"set_table", py_set_table, METH_VARARGS, "set_table(bytes): load the 2112x4 float32 table"},
    {"bits", py_bits, METH_VARARGS, "bits(k0, k1, k2, k3, block, phase, out_u32)"},
    {"normal", py_normal, METH_VARARGS, "normal(k0, k1, k2, k3, block, phase, out_f32)"},
    {"uniform", py_uniform, METH_VARARGS, "uniform(k0, k1, k2, k3, block, phase, out_f32)"},
    {"normal_from_bits", py_normal_from_bits, METH_VARARGS, "normal_from_bits(u32, out_f32)"},
    {"add", py_add, METH_VARARGS,
     "add(variate, dtype, x, out, k0, k1, k2, k3, block, phase, scale, offset, lo, hi, repeat)"
     " -> clipped count"},
    {"add_values", py_add_values, METH_VARARGS,
     "add_values(dtype, x, out, z, scale, offset, lo, hi, repeat) -> clipped count"},
    {"square_sum_normal", py_square_sum_normal, METH_VARARGS,
     "square_sum_normal(k0, k1, k2, k3, block, phase, n[, out_f32]) -> sum of floor(z*z * 2**40)"
     " (the normals also written to out)"},
    {"square_sum_i16", py_square_sum_i16, METH_VARARGS,
     "square_sum_i16(x[, y]) -> exact sum of x*x, or of (y - x)**2 (int16 buffers)"},
    {"isa", py_isa, METH_NOARGS, "the code path in use: 'avx512', 'avx2' or 'generic'"},
    {"set_isa", py_set_isa, METH_VARARGS, "force a code path (for tests)"},
    {"available", py_available, METH_NOARGS, "code paths this CPU can run"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_kernel", "Philox4x32-10, tabulated normal and fused add kernels (AVX-512, AVX2, scalar).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernel(void)
{
    isa = best_isa();
    return PyModule_Create(&moduledef);
}
