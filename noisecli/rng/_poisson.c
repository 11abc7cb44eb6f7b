/* Poisson noise for 8-bit images: the table lookup of noisecli.rng.poisson.poisson_u8.
 *
 * Plain C over raw buffers, meant to be linked into noisecli.rng._kernel. Integer
 * operations only, so the result does not depend on compiler flags or CPU.
 *
 * upper: uint32 [256][257], guide: uint16 [256][256] (noisecli.rng.poisson.u8_tables):
 * for a value of level x with word w,
 *     c = guide[x][w >> 24];  while (w > upper[x][c]) c++;
 * gives the class c in 0..256; out = min(c, 255) and c == 256 counts as clipped.
 * upper[x][256] == 0xFFFFFFFF, so the search always stops.
 */
#include <stddef.h>
#include <stdint.h>

#define NOISECLI_POISSON_CLASSES 257

/* out[i] for i < n from words[i] and levels x[i]; returns the number of clipped values.
 * out may alias x (each x[i] is read before out[i] is written). */
int64_t noisecli_poisson_u8(const uint32_t *upper, const uint16_t *guide,
                            const uint32_t *words, const uint8_t *x, uint8_t *out, size_t n)
{
    int64_t clipped = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t w = words[i];
        const size_t level = x[i];
        const uint32_t *up = upper + level * NOISECLI_POISSON_CLASSES;
        uint32_t c = guide[(level << 8) | (w >> 24)];
        while (w > up[c])
            c++;
        out[i] = (uint8_t)(c - (c >> 8));
        clipped += c >> 8;
    }
    return clipped;
}
