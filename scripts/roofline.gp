# Roofline of one machine: attainable GFLOP/s = min(compute roof, bandwidth
# roof x AI), every roof measured on that machine (its machine file): one
# compute roof per ISA (avx512, avx2, portable) and one bandwidth roof per
# memory level measured (L1, L2, L3, memory; the triad stands in for memory
# in older files). Points: every backend x layer at its arithmetic intensity
# (FLOPs / minimal fp32 bytes of input + weights + output); a point whose
# data stays in cache may sit above the memory roof but under the L2/L1 one.
# Set by convbench report: data (one block per backend, in the order of
# names; columns AI, GFLOP/s, case), top (the highest compute roof), croofs
# and broofs ("name value ..." lists, GFLOP/s and GB/s), names, pass,
# threads, machine, out.
set terminal pngcairo size 1000,700 font "sans,10"
set output out
# the shared style (series.gp, beside this script)
here = ARG0; cut = 0; do for [k = 1:strlen(here)] { if (here[k:k] eq "/") { cut = k } }
load here[1:cut] . "series.gp"
set title sprintf("%s: roofline, %s pass, %d threads", machine, pass, threads)
set logscale xy
set xlabel "arithmetic intensity (FLOP / byte, minimal fp32 traffic)"
set ylabel "GFLOP/s"
set grid
set key outside right top noenhanced
nc = words(croofs) / 2
nbw = words(broofs) / 2
cval(i) = word(croofs, 2 * i) + 0
bval(i) = word(broofs, 2 * i) + 0
# the top compute roof solid, the lower ISAs dashed
cdash(i) = i == 1 ? 1 : 2
cwidth(i) = i == 1 ? 3 : 2
stats data using 1 nooutput
xmin = STATS_min / 2
xmax = STATS_max * 2
# every ridge (where a bandwidth roof meets the top compute roof) in view
do for [i=1:nbw] {
    if (top / bval(i) / 2 < xmin) { xmin = top / bval(i) / 2 }
    if (top / bval(i) * 2 > xmax) { xmax = top / bval(i) * 2 }
}
set xrange [xmin:xmax]
set samples 400
nb = words(names)
plot for [i=1:nc] (x > 0 ? cval(i) : 1/0) with lines dt cdash(i) lw cwidth(i) lc rgb "black" \
         title sprintf("%s peak %.0f GFLOP/s", word(croofs, 2 * i - 1), cval(i)), \
     for [i=1:nbw] (bval(i) * x <= top ? bval(i) * x : 1/0) with lines lw 2 lc rgb "gray40" dt i + 1 \
         title sprintf("%s %.1f GB/s", word(broofs, 2 * i - 1), bval(i)), \
     for [i=0:nb-1] data index i using 1:2 with points pt spoint(i + 1) ps 1.4 \
         lc rgb scolor(i + 1) title word(names, i + 1)
