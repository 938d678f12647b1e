// bench_conv: every registered backend x pass x layer of the chosen sets,
// as Google Benchmark cases named "set/layer/bN/backend/pass" (Google
// Benchmark appends "/real_time"). Counters: GFLOP/s of the direct
// convolution count (so Winograd shows effective GFLOP/s) and pct_peak, the
// percentage of the measured fp32 FMA peak at this thread count and ISA;
// the label is the backend's implementation string. Wall-clock time
// (UseRealTime), since the passes run on an OpenMP team.
//
// With --paired=REF each case also runs backend REF on the same layer and
// pass, the two calls alternating (which goes first alternating too), so
// a busy neighbour or a frequency change falls on both: the reported time
// is the case's own (manual time), and the counters are ref_ms, REF's time
// a call in the same repetition, and speedup, REF's total time over the
// case's (above 1: the case is faster). Their ratio in one repetition is
// paired call by call; Google Benchmark's aggregates over repetitions
// (median, cv) then apply to speedup as to any counter.
//
// Our options (usage() below) are taken out before Google Benchmark sees
// the rest.
#include <benchmark/benchmark.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <omp.h>
#include <string>
#include <vector>
#include "bench_case.h"
#include "cli.h"
#include "conv.h"
#include "paired_loop.h"
extern "C" {
#include "cpu.h" // a C header without its own extern "C"
}
#include "results.h"
#include "scale.h"
#include "shape_sets.h"

namespace
{

struct Case {
    const conv_backend *backend;
    const bench_layer *layer; // in the shape list, which lives until exit
    conv_pass pass;
    double peak_gflops;
    const conv_backend *ref; // --paired: the backend timed beside it, else null
};

// The plans and buffers of the case that ran last (and of its reference):
// Google Benchmark calls a case's function several times (iteration
// estimate, repetitions), and the plans are made once for all of them.
// One case is kept alive at a time.
const Case *current;
bench_case *current_bc, *current_ref;

void drop_current()
{
    bench_case_free(current_bc);
    bench_case_free(current_ref);
    current_bc = current_ref = nullptr;
    current = nullptr;
}

// Plans c (and its reference); false after SkipWithError.
bool make_current(benchmark::State &state, const Case *c)
{
    drop_current();
    const char *why = nullptr;
    current_bc = bench_case_new(c->backend, &c->layer->shape, c->pass, &why);
    if (!current_bc) {
        state.SkipWithError(why ? why : "unsupported");
        return false;
    }
    if (c->ref) {
        why = nullptr;
        current_ref = bench_case_new(c->ref, &c->layer->shape, c->pass, &why);
        if (!current_ref) {
            std::string msg =
                std::string("--paired ") + c->ref->name + ": " + (why ? why : "unsupported");
            drop_current();
            state.SkipWithError(msg.c_str());
            return false;
        }
        bench_case_run(current_ref); // first touch, untimed
    }
    current = c;
    bench_case_run(current_bc);
    return true;
}

void run_case(benchmark::State &state, const Case *c)
{
    if (current != c && !make_current(state, c)) return;
    if (c->ref)
        paired_loop(
            state, [] { bench_case_run(current_bc); }, [] { bench_case_run(current_ref); },
            "ref_ms", 1e3);
    else
        for (auto _ : state) bench_case_run(current_bc);
    const double flops = conv_flops(&c->layer->shape);
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    if (c->peak_gflops > 0)
        state.counters["pct_peak"] = benchmark::Counter(
            100.0 * flops * 1e-9 / c->peak_gflops, benchmark::Counter::kIsIterationInvariantRate);
    const char *impl = bench_case_impl(current_bc);
    std::string label = impl ? impl : "";
    if (c->ref) label += std::string(label.empty() ? "" : " ") + "vs " + c->ref->name;
    if (!label.empty()) state.SetLabel(label);
}

// Takes "--name=value" or "--name value" out of argv; returns value or null.
const char *take_option(int *argc, char **argv, const char *name, bool has_value)
{
    size_t len = strlen(name);
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, name, len)) continue;
        const char *v = nullptr;
        int used = 1;
        if (!has_value && a[len] == 0)
            v = a;
        else if (has_value && a[len] == '=')
            v = a + len + 1;
        else if (has_value && a[len] == 0 && i + 1 < *argc) {
            v = argv[i + 1];
            used = 2;
        } else
            continue;
        for (int j = i; j + used <= *argc; j++) argv[j] = argv[j + used];
        *argc -= used;
        return v;
    }
    return nullptr;
}

// Every value of a repeatable option, in order.
std::vector<const char *> take_all(int *argc, char **argv, const char *name)
{
    std::vector<const char *> v;
    while (const char *x = take_option(argc, argv, name, true)) v.push_back(x);
    return v;
}

void usage()
{
    printf("usage: bench_conv [--set=LIST] [--shape=SHAPE]... [--shapes=FILE]...\n"
           "                  [--model=SPEC [--batch=N]] [--backends=LIST] [--bind]\n"
           "                  [--paired=REF] [Google Benchmark flags]\n"
           "Every backend x pass x layer, as cases named set/layer/bN/backend/pass.\n"
           "  --set=LIST      built-in sets (files in shapes/): seed, resnet, vgg,\n"
           "                  mobilenet_v2, dilated, or all (default all, or none\n"
           "                  when a shape of yours is given)\n"
           "  --shape=SHAPE   N,H,W,C,K,R,S,STRIDE,PAD[:NAME] or a benchdnn descriptor\n"
           "                  such as mb32ic32ih13oc64kh3ph0 (repeatable; set 'user')\n"
           "  --shapes=FILE   one shape a line, '#' comments (repeatable; set = file name)\n"
           "  --model=SPEC    every conv layer of a network spec, at --batch N (default 32)\n"
           "  --backends=LIST backends (default every registered one)\n"
           "  --bind          bind thread i to core i with hwloc\n"
           "  --paired=REF    time backend REF beside each case, call by call in turns:\n"
           "                  counters ref_ms (REF's time) and speedup (REF's time over\n"
           "                  the case's); REF itself is not a case\n"
           "Google Benchmark's own flags follow.\n\n");
    fflush(stdout);
}

} // namespace

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(); // then Google Benchmark's flags, and exit 0
            char help[] = "--help";
            char *args[] = { argv[0], help, nullptr };
            int n = 2;
            benchmark::Initialize(&n, args);
            return 0;
        }
    const std::vector<const char *> set_opt = take_all(&argc, argv, "--set");
    const std::vector<const char *> shape_opt = take_all(&argc, argv, "--shape");
    const std::vector<const char *> file_opt = take_all(&argc, argv, "--shapes");
    const char *model = take_option(&argc, argv, "--model", true);
    const char *batch_s = take_option(&argc, argv, "--batch", true);
    const char *backend_list = take_option(&argc, argv, "--backends", true);
    bool bind = take_option(&argc, argv, "--bind", false) != nullptr;
    const char *paired = take_option(&argc, argv, "--paired", true);
    char err[1024];
    std::string sets;
    for (const char *s : set_opt) sets += std::string(sets.empty() ? "" : ",") + s;
    shape_request req = { nullptr,
                          shape_opt.data(),
                          (int)shape_opt.size(),
                          file_opt.data(),
                          (int)file_opt.size(),
                          model,
                          0 };
    if (batch_s && cli_positive("bench_conv", "--batch", batch_s, &req.batch)) return 2;
    if (batch_s && !model) {
        fprintf(stderr, "bench_conv: --batch applies to --model only\n");
        return 2;
    }
    req.sets = !sets.empty() ? sets.c_str() : shapes_request_has_user(&req) ? nullptr : "all";
    static shape_list shapes; // the cases point into it until exit
    if (shapes_collect(&req, &shapes, err, sizeof err)) {
        fprintf(stderr, "bench_conv: %s\n", err);
        return 2;
    }
    char bad[64];
    if (cli_unknown_backend(backend_list, nullptr, bad, sizeof bad)) {
        fprintf(stderr, "bench_conv: unknown backend '%s'\n", bad);
        return 2;
    }
    const conv_backend *ref = nullptr;
    if (paired && !(ref = conv_backend_find(paired))) {
        fprintf(stderr, "bench_conv: --paired: unknown backend '%s'\n", paired);
        return 2;
    }
    const int threads = omp_get_max_threads();
    std::string bound = "none";
    if (bind) {
        std::vector<int> core(threads);
        if (scale_bind_compact(threads, err, sizeof err)) {
            fprintf(stderr, "bench_conv: --bind: %s\n", err);
            return 2;
        }
        // check inside the team that thread i really runs on core i
        bool ok = scale_team_cores(threads, core.data()) == 0;
        bound = "cores";
        for (int i = 0; i < threads; i++) {
            ok = ok && core[i] == i;
            bound += (i ? "," : " ") + std::to_string(core[i]);
        }
        if (!ok) {
            fprintf(stderr, "bench_conv: --bind: threads are not one per core (%s)\n",
                    bound.c_str());
            return 2;
        }
    }
    const cpu_isa isa = cpu_isa_active();
    int from_file = 0;
    const double peak = results_peak_gflops(isa, threads, &from_file);
    char machine[512];
    results_machine_path(machine, sizeof machine);
    benchmark::AddCustomContext("convbench_threads", std::to_string(threads));
    benchmark::AddCustomContext("convbench_isa", cpu_isa_name(isa));
    benchmark::AddCustomContext("convbench_peak_gflops", std::to_string(peak));
    benchmark::AddCustomContext("convbench_peak_from", from_file ? machine : "measured at start");
    benchmark::AddCustomContext("convbench_bind", bound);

    std::vector<Case> cases;
    for (const conv_backend *const *b = conv_backends(); *b; b++) {
        if (backend_list && !cli_list_has(backend_list, (*b)->name)) continue;
        if (*b == ref) continue;
        for (int i = 0; i < shapes.n; i++)
            for (int p = 0; p < 3; p++)
                cases.push_back({ *b, &shapes.v[i], (conv_pass)p, peak, ref });
    }
    if (ref && cases.empty()) {
        fprintf(stderr, "bench_conv: --paired=%s: no other backend to time beside it\n", ref->name);
        return 2;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    for (const Case &c : cases) { // cases no longer grows: pointers stay valid
        char name[256];
        shapes_case_name(name, sizeof name, c.layer, c.backend->name, c.pass);
        const char *why = c.backend->unsupported(&c.layer->shape);
        if (why) fprintf(stderr, "bench_conv: %s skipped: %s\n", name, why);
        benchmark::internal::Benchmark *bm = benchmark::RegisterBenchmark(name, run_case, &c);
        if (ref)
            bm->UseManualTime();
        else
            bm->UseRealTime();
        bm->Unit(benchmark::kMillisecond);
    }
    fprintf(stderr, "bench_conv: %d threads%s, ISA %s, peak %.1f GFLOP/s (%s)%s%s\n", threads,
            bind ? " bound one per core" : "", cpu_isa_name(isa), peak,
            from_file ? machine : "measured at start", ref ? ", each case beside " : "",
            ref ? ref->name : "");
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    drop_current();
    return 0;
}
