/* simd's blocked micro-kernels one by one, below the plans the shared
   sweep reaches them through: every J x V blocking of every ISA this CPU
   runs against a double-precision sum, on segments of odd lengths (the
   unrolled step loop's remainders), strided rows, a bias, a partial last
   vector whose other lanes must stay untouched, and accumulation into the
   destination. AVX-512's two instruction mixes (a broadcast register, or
   {1to16} memory operands where the CPU splits 512-bit FMAs) are both
   run on any AVX-512 CPU and must agree bit for bit: they do the same
   FMAs in the same order. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "../kernels/cpu.h"
#include "../kernels/simd/simd_kernels.h"
#include "check.h"
#include "suites.h"

enum { NSEG = 3, STEPS = 37 + 5 + 1, ALD = 4 * STEPS + 7, WMAX = VMAX * 16, LD = WMAX + 5 };

static const seg segs[NSEG] = { { 0, 0, 37 }, { 2 * STEPS, 0, 5 }, { 3 * STEPS + 1, 0, 1 } };

/* the destination rows as the kernel must leave them, in double */
static void reference(const float *a, const float *b, const float *bias, const float *d0,
                      int accumulate, int J, int width, int tail_w, double *want)
{
    for (int j = 0; j < J; j++)
        for (int k = 0; k < LD; k++) {
            double v = d0[j * LD + k];
            if (k < tail_w) {
                double s = accumulate ? v : bias[k];
                const float *bk = b + k;
                for (int g = 0; g < NSEG; g++)
                    for (int i = 0; i < segs[g].len; i++, bk += width)
                        s += (double)a[j * ALD + segs[g].a + i] * *bk;
                v = s;
            }
            want[j * LD + k] = v;
        }
}

static void check_isa(const simd_isa *d, check_rng *rng)
{
    static float a[JMAX * ALD], b[STEPS * WMAX], bias[WMAX], init[JMAX * LD], out[2][JMAX * LD];
    static double want[JMAX * LD];
    ptrdiff_t aoff[JMAX], doff[JMAX];
    for (int j = 0; j < JMAX; j++) aoff[j] = (ptrdiff_t)j * ALD, doff[j] = (ptrdiff_t)j * LD;
    check_fill(rng, a, sizeof a / sizeof *a);
    check_fill(rng, bias, WMAX);
    check_fill(rng, init, sizeof init / sizeof *init);
    const int mixes = d->isa == ISA_AVX512 ? 2 : 1;
    for (int v = 1; v <= d->vmax; v++)
        for (int J = 1; J <= d->jmax[v - 1]; J++)
            for (int acc = 0; acc <= 1; acc++) {
                const int width = v * d->vlen, tail = d->vlen - 3;
                check_fill(rng, b, (unsigned long long)STEPS * width);
                reference(a, b, bias, init, acc, J, width, width - d->vlen + tail, want);
                double err = 0;
                for (int mix = 0; mix < mixes; mix++) {
                    memcpy(out[mix], init, sizeof init);
                    const ukr_args g = {
                        .a0 = a,
                        .b0 = b,
                        .seg = segs,
                        .nseg = NSEG,
                        .ainc = 1,
                        .binc = width,
                        .aoff = aoff,
                        .d0 = out[mix],
                        .doff = doff,
                        .bias = acc ? NULL : bias,
                        .accumulate = acc,
                        .tail = tail,
                        .bcast_mem = mix,
                    };
                    d->ukr[v - 1][J - 1](&g);
                    for (int i = 0; i < J * LD; i++) {
                        double e = fabs(out[mix][i] - want[i]) / (1.0 + fabs(want[i]));
                        if (e > err) err = e;
                    }
                }
                char name[96];
                snprintf(name, sizeof name, "ukr/%s/%dx%d%s", cpu_isa_name(d->isa), J, v,
                         acc ? "/accumulate" : "");
                check(name, err < 1e-5, "error %.3g against the double sum", err);
                if (mixes == 2) {
                    snprintf(name, sizeof name, "ukr/%s/%dx%d%s/memory-broadcasts",
                             cpu_isa_name(d->isa), J, v, acc ? "/accumulate" : "");
                    check(name, !memcmp(out[0], out[1], sizeof(float) * J * LD),
                          "differs from the broadcast-register kernel");
                }
            }
}

void test_ukr(void)
{
    check_rng rng = { 77 };
    const cpu_isa top = cpu_isa_supported();
    if (top >= ISA_AVX512)
        check_isa(&simd_isa_avx512, &rng);
    else
        check_skip("ukr/avx512", "this CPU has no AVX-512F");
    if (top >= ISA_AVX2)
        check_isa(&simd_isa_avx2, &rng);
    else
        check_skip("ukr/avx2", "this CPU has no AVX2+FMA");
    check_isa(&simd_isa_portable, &rng);
}
