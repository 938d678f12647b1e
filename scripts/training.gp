# Training loss and test accuracy per epoch, one line per backend (and
# thread count). Set by convbench report: loss, acc (epoch, then one column
# per run, header line), ncols, machine, out.
set terminal pngcairo size 1200,480 font "sans,10"
set output out
set datafile missing "NaN"
set key bottom left noenhanced
set grid
set xlabel "epoch"
set xtics 1
set multiplot layout 1,2 title sprintf("%s: training per backend@threads", machine) noenhanced
set title "training loss (mean over the epoch)"
set key top right
plot for [i=2:ncols] loss using 1:i with linespoints lw 2 title columnheader(i)
set title "test accuracy (after each epoch)"
set key bottom right
plot for [i=2:ncols] acc using 1:i with linespoints lw 2 title columnheader(i)
unset multiplot
