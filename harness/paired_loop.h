// The timing loop of bench_conv --paired and bench_gemm --paired (C++
// only): per iteration one call of own and one of ref, which goes first
// alternating, so a slow spell of a shared machine falls on both. The
// iteration's time is own's (register the benchmark with UseManualTime);
// the counters are ref_counter, ref's time a call (seconds times scale),
// and speedup, ref's total time over own's in the repetition.
#ifndef CONVBENCH_PAIRED_LOOP_H
#define CONVBENCH_PAIRED_LOOP_H

#include <benchmark/benchmark.h>
#include <chrono>

template <class Own, class Ref>
void paired_loop(benchmark::State &state, Own own, Ref ref, const char *ref_counter, double scale)
{
    using clock = std::chrono::steady_clock;
    double own_s = 0, ref_s = 0;
    bool ref_first = false;
    for (auto _ : state) {
        const clock::time_point t0 = clock::now();
        if (ref_first)
            ref();
        else
            own();
        const clock::time_point t1 = clock::now();
        if (ref_first)
            own();
        else
            ref();
        const clock::time_point t2 = clock::now();
        const double first = std::chrono::duration<double>(t1 - t0).count();
        const double second = std::chrono::duration<double>(t2 - t1).count();
        const double mine = ref_first ? second : first;
        own_s += mine;
        ref_s += ref_first ? first : second;
        state.SetIterationTime(mine);
        ref_first = !ref_first;
    }
    const double it = (double)state.iterations();
    if (it > 0 && own_s > 0) {
        state.counters[ref_counter] = scale * ref_s / it;
        state.counters["speedup"] = ref_s / own_s;
    }
}

#endif
