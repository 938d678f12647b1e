/* Order statistics of a sample of doubles (timings, mostly): the ascending
   comparator, the median, and median/min/max in one call. */
#ifndef CONVBENCH_MEDIAN_H
#define CONVBENCH_MEDIAN_H

/* qsort order of doubles, ascending. */
int cmp_double_asc(const void *x, const void *y);

/* Sorts v[0..n) ascending in place and returns its median (the mean of the
   middle two when n is even); 0 when n < 1. */
double median_of(double *v, int n);

/* Median, minimum and maximum of v[0..n), which is left as it is; all 0
   when n < 1 (or when no scratch copy can be allocated). */
void stats_summary(const double *v, int n, double *median, double *min, double *max);

/* The first and third quartiles of v[0..n) (linear interpolation between
   order statistics, numpy's default), v left as it is; both 0 when n < 1. */
void stats_quartiles(const double *v, int n, double *q1, double *q3);

#endif
