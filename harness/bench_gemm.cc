// bench_gemm: our sgemm against OpenBLAS's cblas_sgemm on square sizes
// 64..2048 and on the GEMMs the seed network's convolutions make through
// im2col at batch 32 (forward, backward-data, backward-weights), at one
// thread count: --threads=N, else OMP_NUM_THREADS, else all cores.
// Counters: GFLOP/s (2mnk per call) and % of the FMA peak measured at start
// on the same number of threads, at the ISA sgemm runs.
//   build/bench_gemm --threads=1 --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
// With --paired each sgemm case calls OpenBLAS beside itself, one call of
// each in turns (which goes first alternating), as bench_conv --paired:
// the time is sgemm's own (manual time), the counters add openblas_us and
// speedup (OpenBLAS's total time over sgemm's in the repetition).
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <omp.h>
#include <string>
#include <vector>

extern "C" {
#include "cpu.h" // a C header without extern "C" of its own
}
#include "cli.h"
#include "gemm.h"
#include "paired_loop.h"
#include "peak.h"

namespace
{

struct gemm_case {
    std::string name;
    gemm_trans ta, tb;
    int m, n, k;
};

// im2col GEMMs of a conv layer with P*Q outputs per image, C*R*S = rsc, K out.
void add_conv(std::vector<gemm_case> &v, const char *layer, int npq, int k_out, int rsc)
{
    std::string l(layer);
    v.push_back({ l + "/fwd", GEMM_NOTRANS, GEMM_NOTRANS, npq, k_out, rsc });
    v.push_back({ l + "/bwd_data", GEMM_NOTRANS, GEMM_TRANS, npq, rsc, k_out });
    v.push_back({ l + "/bwd_weights", GEMM_TRANS, GEMM_NOTRANS, rsc, k_out, npq });
}

double g_peak; // measured GFLOP/s at g_threads threads
int g_threads;
bool g_paired; // --paired: each sgemm case times OpenBLAS beside it

float *random_buffer(size_t n, unsigned seed)
{
    float *p = static_cast<float *>(cpu_alloc(n * sizeof(float)));
    if (!p) {
        std::fprintf(stderr, "bench_gemm: out of memory\n");
        std::exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

void run(benchmark::State &state, const gemm_case &gc, bool blas)
{
    const int m = gc.m, n = gc.n, k = gc.k;
    const int lda = gc.ta ? m : k, ldb = gc.tb ? k : n, ldc = n;
    float *a = random_buffer((size_t)m * k, 1), *b = random_buffer((size_t)k * n, 2);
    float *c = random_buffer((size_t)m * n, 3);
    auto call = [&](bool with_blas) {
        if (with_blas)
            cblas_sgemm(CblasRowMajor, gc.ta ? CblasTrans : CblasNoTrans,
                        gc.tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c,
                        ldc);
        else
            sgemm(gc.ta, gc.tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
        benchmark::DoNotOptimize(c);
        benchmark::ClobberMemory();
    };
    if (g_paired) {
        call(true); // OpenBLAS's first call sets up its buffers, untimed
        paired_loop(
            state, [&] { call(false); }, [&] { call(true); }, "openblas_us", 1e6);
    } else
        for (auto _ : state) call(blas);
    const double flops = 2.0 * m * n * k;
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["%peak"] = benchmark::Counter(flops * 1e-9 / g_peak * 100,
                                                 benchmark::Counter::kIsIterationInvariantRate);
    state.counters["threads"] = g_threads;
    state.SetLabel(blas       ? "openblas"
                   : g_paired ? std::string(sgemm_impl()) + " vs openblas"
                              : sgemm_impl());
    free(a);
    free(b);
    free(c);
}

} // namespace

int main(int argc, char **argv)
{
    // our one flag, removed before Google Benchmark parses the rest
    g_threads = omp_get_max_threads();
    int out = 1;
    for (int i = 1; i < argc; i++) {
        if (std::strncmp(argv[i], "--threads=", 10) == 0) {
            // the checked parser every convbench option uses: no wrap
            if (cli_threads("bench_gemm", "--threads", argv[i] + 10, &g_threads)) return 2;
        } else if (std::strcmp(argv[i], "--paired") == 0) {
            g_paired = true;
        } else {
            argv[out++] = argv[i];
        }
    }
    argc = out;
    omp_set_num_threads(g_threads);
    openblas_set_num_threads(g_threads);

    std::vector<gemm_case> cases;
    for (int s = 64; s <= 2048; s *= 2)
        cases.push_back({ "square/" + std::to_string(s), GEMM_NOTRANS, GEMM_NOTRANS, s, s, s });
    // seed network, batch 32: conv1 28x28x1->32, conv2 13x13x32->64, conv3 5x5x64->64
    add_conv(cases, "conv1", 32 * 26 * 26, 32, 9);
    add_conv(cases, "conv2", 32 * 11 * 11, 64, 288);
    add_conv(cases, "conv3", 32 * 3 * 3, 64, 576);

    cpu_isa isa = cpu_isa_active();
    g_peak = peak_fma_gflops(isa, g_threads, 5);
    if (g_peak <= 0) g_peak = 1;
    char peak_text[64];
    std::snprintf(peak_text, sizeof peak_text, "%.1f", g_peak);
    benchmark::AddCustomContext("threads", std::to_string(g_threads));
    benchmark::AddCustomContext("isa", cpu_isa_name(isa));
    benchmark::AddCustomContext("sgemm", sgemm_impl());
    benchmark::AddCustomContext("peak_fma_gflops", peak_text);
    benchmark::AddCustomContext("openblas", openblas_get_config());
    // DYNAMIC_ARCH picks its kernels by CPU model; OPENBLAS_CORETYPE overrides
    benchmark::AddCustomContext("openblas_core", openblas_get_corename());

    for (const gemm_case &gc : cases) {
        char dims[64];
        std::snprintf(dims, sizeof dims, "/%c%c/%dx%dx%d", gc.ta ? 'T' : 'N', gc.tb ? 'T' : 'N',
                      gc.m, gc.n, gc.k);
        for (int blas = 0; blas < (g_paired ? 1 : 2); blas++) {
            benchmark::internal::Benchmark *bm = benchmark::RegisterBenchmark(
                ((blas ? "openblas/" : "sgemm/") + gc.name + dims).c_str(),
                [gc, blas](benchmark::State &st) { run(st, gc, blas); });
            if (g_paired)
                bm->UseManualTime();
            else
                bm->UseRealTime();
            bm->Unit(benchmark::kMicrosecond);
        }
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
