# Training loss and test accuracy per epoch, one line per backend (and
# thread count). Set by convbench report: loss, acc (epoch, then one column
# per run, header line), ncols, machine, out.
set terminal pngcairo size 1200,480 font "sans,10"
set output out
# the shared style (series.gp, beside this script)
here = ARG0; cut = 0; do for [k = 1:strlen(here)] { if (here[k:k] eq "/") { cut = k } }
load here[1:cut] . "series.gp"
set datafile missing "NaN"
set key bottom left noenhanced
set grid
set xlabel "epoch"
set xtics 1
set multiplot layout 1,2 title sprintf("%s: training per backend@threads", machine)
set title sprintf("%s: training loss (mean over the epoch)", machine)
set key top right
plot for [i=2:ncols] loss using 1:i with linespoints lw 2 pt spoint(i - 1) lc rgb scolor(i - 1) \
    title columnheader(i)
set title sprintf("%s: test accuracy (after each epoch)", machine)
set key bottom right
plot for [i=2:ncols] acc using 1:i with linespoints lw 2 pt spoint(i - 1) lc rgb scolor(i - 1) \
    title columnheader(i)
unset multiplot
