# Roofline: attainable GFLOP/s = min(peak, bandwidth x AI), measured peak
# and triad bandwidth; every backend x layer at its arithmetic intensity
# (FLOPs / minimal fp32 bytes of input + weights + output).
# Set by convbench report: data (one block per backend, in the order of
# names; columns AI, GFLOP/s, case), peak, bw, names, pass, threads, out.
set terminal pngcairo size 1000,700 font "sans,10"
set output out
set title sprintf("Roofline, %s pass, %d threads: peak %.0f GFLOP/s, triad %.1f GB/s", pass, threads, peak, bw)
set logscale xy
set xlabel "arithmetic intensity (FLOP / byte, minimal fp32 traffic)"
set ylabel "GFLOP/s"
set grid
set key outside right top noenhanced
roof(x) = (bw * x < peak) ? bw * x : peak
stats data using 1 nooutput
xmin = STATS_min / 2
xmax = STATS_max * 2
if (peak / bw < xmin) xmin = peak / bw / 2
set xrange [xmin:xmax]
set samples 400
nb = words(names)
plot roof(x) with lines lw 3 lc rgb "black" title "roof", \
     for [i=0:nb-1] data index i using 1:2 with points pt (i % 7 + 4) ps 1.4 lc (i + 1) title word(names, i + 1)
