# What every plot shares, loaded by each script after its terminal:
# text set literally (no enhanced-text markup: "backward_data" keeps its
# underscore), and one distinct colour and point type per series, so that
# nine training series are nine, in colour and in grey print alike.
# Colours: the Okabe-Ito palette, then Paul Tol's muted scheme.
set termoption noenhanced
series_colors = "#0072B2 #E69F00 #009E73 #CC79A7 #56B4E9 #D55E00 #000000 #F0E442 " . \
                "#332288 #882255 #44AA99 #999933 #AA4499 #117733 #661100 #888888"
series_points = "7 5 9 11 13 15 1 2 3 4 6 8 10 12 14 0"
scolor(i) = word(series_colors, (i - 1) % words(series_colors) + 1)
spoint(i) = word(series_points, (i - 1) % words(series_points) + 1) + 0
