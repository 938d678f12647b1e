# Speedup against one thread by thread count (threads bound one per core),
# per backend, with the ideal line. Set by convbench report: data (threads,
# then one column per backend, header line), ncols, maxt, what, machine, out.
set terminal pngcairo size 900,600 font "sans,10"
set output out
set title sprintf("%s: speedup vs cores, %s", machine, what) noenhanced
set datafile missing "NaN"
set xlabel "threads (one per core)"
set ylabel "speedup over 1 thread"
set xrange [1:maxt]
set yrange [0:maxt * 1.1]
set xtics 1
set grid
set key top left noenhanced
plot x with lines dt 2 lw 2 lc rgb "black" title "ideal", \
     for [i=2:ncols] data using 1:i with linespoints lw 2 pt 7 title columnheader(i)
