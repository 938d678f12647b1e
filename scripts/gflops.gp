# GFLOP/s per backend per layer: grouped bars, one group per layer and
# pass, our backends solid, oneDNN's hatched beside them.
# Error bars: the interquartile range of the repetitions' times, as GFLOP/s.
# Set by convbench report: data (columns: case, then per backend its
# GFLOP/s and the IQR's low and high end, with a header line), nb (the
# backends), nours (how many of them are ours), set_name, threads, machine,
# out.
set terminal pngcairo size 1400,620 font "sans,10"
set output out
# the shared style (series.gp, beside this script)
here = ARG0; cut = 0; do for [k = 1:strlen(here)] { if (here[k:k] eq "/") { cut = k } }
load here[1:cut] . "series.gp"
set style data histograms
set style histogram errorbars gap 1 lw 1
set boxwidth 0.9 relative
set datafile missing "NaN"
set ylabel "GFLOP/s"
set yrange [0:*]
set grid ytics
set xtics rotate by -35 left noenhanced
set key outside right top noenhanced
set lmargin 10
set bmargin 7
set title sprintf("%s: convolution GFLOP/s per backend, set %s, %d threads (direct-convolution FLOPs / median time, bars: interquartile range; Winograd = effective)", machine, set_name, threads)
v(i) = 3 * i - 1
plot for [i=1:nours] data using v(i):v(i)+1:v(i)+2:xtic(1) title columnheader(v(i)) \
         fillstyle solid 0.85 border -1 lc rgb scolor(i), \
     for [i=nours+1:nb] data using v(i):v(i)+1:v(i)+2 title columnheader(v(i)) \
         fillstyle pattern 4 border -1 lc rgb scolor(i)
