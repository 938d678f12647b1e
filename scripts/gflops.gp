# GFLOP/s per backend per layer: grouped bars, one group per layer and
# pass, our backends solid, oneDNN's hatched beside them.
# Set by convbench report: data (columns: case, then one per backend, with a
# header line), ncols, nours (how many of the backend columns are ours),
# set_name, threads, machine, out.
set terminal pngcairo size 1400,620 font "sans,10"
set output out
set title sprintf("%s: convolution GFLOP/s per backend, set %s, %d threads (direct-convolution FLOPs / median time; Winograd = effective)", machine, set_name, threads) noenhanced
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.9 relative
set datafile missing "NaN"
set ylabel "GFLOP/s"
set yrange [0:*]
set grid ytics
set xtics rotate by -35 left noenhanced
set key outside right top noenhanced
set lmargin 10
set bmargin 7
plot for [i=2:nours+1] data using i:xtic(1) title columnheader(i) fillstyle solid 0.85 border -1, \
     for [i=nours+2:ncols] data using i title columnheader(i) fillstyle pattern 4 border -1
