/* Float matrix transposes. A strided gather, element by element, costs a
   load per element, each from another cache line when the rows are long;
   a 16 x 16 block transposed in registers costs 16 loads and 16 stores of
   whole vectors (simd's backward-data filter repack: 14% of conv3's pass
   before, and Winograd's c-contiguous filter copy). */
#include <immintrin.h>
#include "cpu.h"
#include "transpose.h"

/* d[j][i] = s[i][j] for a 16 x 16 block (rows ls and ld floats apart), in
   registers: two rounds of in-lane unpacks and shuffles, then two of
   128-bit lane shuffles (a hardware gather is far slower here). */
__attribute__((target("avx512f"))) static void transpose16(const float *s, ptrdiff_t ls, float *d,
                                                           ptrdiff_t ld)
{
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(s + i * ls);
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    /* r[4q + m], lane l: column 4l + m of rows 4q .. 4q + 3 */
    for (int q = 0; q < 4; q++) {
        r[4 * q] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
        r[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
        r[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
        r[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
    }
    for (int m = 0; m < 4; m++) {
        const __m512 a = _mm512_shuffle_f32x4(r[m], r[4 + m], 0x88);
        const __m512 b = _mm512_shuffle_f32x4(r[m], r[4 + m], 0xDD);
        const __m512 c = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0x88);
        const __m512 e = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0xDD);
        _mm512_storeu_ps(d + (0 + m) * ld, _mm512_shuffle_f32x4(a, c, 0x88));
        _mm512_storeu_ps(d + (8 + m) * ld, _mm512_shuffle_f32x4(a, c, 0xDD));
        _mm512_storeu_ps(d + (4 + m) * ld, _mm512_shuffle_f32x4(b, e, 0x88));
        _mm512_storeu_ps(d + (12 + m) * ld, _mm512_shuffle_f32x4(b, e, 0xDD));
    }
}

void transpose_floats(const float *s, ptrdiff_t ls, int rows, int cols, float *d, ptrdiff_t ld)
{
    const int tr = cpu_isa_active() == ISA_AVX512 ? rows / 16 * 16 : 0,
              tc = tr ? cols / 16 * 16 : 0;
    for (int i = 0; i < tr; i += 16)
        for (int j = 0; j < tc; j += 16) transpose16(s + i * ls + j, ls, d + j * ld + i, ld);
    for (int j = 0; j < cols; j++)
        for (int i = j < tc ? tr : 0; i < rows; i++) d[j * ld + i] = s[i * ls + j];
}
