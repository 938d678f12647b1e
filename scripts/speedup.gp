# Speedup against one thread by thread count (threads bound one per core),
# per backend, with the ideal line; error bars: the interquartile range of
# the repetitions' times at that thread count. Set by convbench report:
# data (threads, then per backend its speedup and the IQR's low and high
# end, header line), nb (the backends), maxt, what, machine, out.
set terminal pngcairo size 900,600 font "sans,10"
set output out
# the shared style (series.gp, beside this script)
here = ARG0; cut = 0; do for [k = 1:strlen(here)] { if (here[k:k] eq "/") { cut = k } }
load here[1:cut] . "series.gp"
set title sprintf("%s: speedup vs cores, %s (bars: interquartile range)", machine, what)
set datafile missing "NaN"
set xlabel "threads (one per core)"
set ylabel "speedup over 1 thread"
set xrange [1:maxt]
set yrange [0:maxt * 1.1]
set xtics 1
set grid
set key top left noenhanced
plot x with lines dt 2 lw 2 lc rgb "black" title "ideal", \
     for [i=1:nb] data using 1:3*i-1:3*i:3*i+1 with yerrorlines lw 2 pt spoint(i) ps 1.2 \
         lc rgb scolor(i) title columnheader(3 * i - 1)
