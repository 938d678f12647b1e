/* Statistics for comparing benchmark repetitions.

   The two-sided Mann-Whitney U test (Wilcoxon rank-sum), the test Google
   Benchmark's tools/compare.py applies to the repetitions of two runs: it
   asks whether one sample tends to take larger values than the other,
   without assuming normal timings (benchmark times are skewed: a busy
   neighbour only ever makes a run slower).

   p-value: exact (the permutation distribution of U, counted by dynamic
   programming) when the samples hold no tied values and na + nb <=
   STATS_EXACT_MAX; otherwise the normal approximation with continuity
   correction and the tie correction of the variance
       sigma^2 = na nb / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1))),
   t the size of each group of tied values, N = na + nb (as scipy's
   mannwhitneyu, which compare.py calls). */
#ifndef CONVBENCH_STATS_H
#define CONVBENCH_STATS_H

#define STATS_EXACT_MAX 50

typedef struct {
    double u;  /* U of sample a: number of pairs (x in a, y in b) with x > y, ties 1/2 */
    double z;  /* standardized |U - na nb / 2| (continuity corrected); 0 if exact */
    double p;  /* two-sided p-value, in (0, 1] */
    int exact; /* 1 if p is from the exact distribution */
} stats_mwu;

/* The test on a[0..na) and b[0..nb) (na, nb >= 1; values finite).
   Returns 0, or -1 (out of memory, empty sample) with *r set to p = 1. */
int stats_mann_whitney(const double *a, int na, const double *b, int nb, stats_mwu *r);

/* The smallest two-sided p-value any pair of untied samples of these sizes
   can reach: 2 / C(na + nb, na). If it is >= alpha, no difference between
   samples of these sizes can ever be significant. */
double stats_mwu_min_p(int na, int nb);

/* The Hodges-Lehmann estimate of the shift from a to b (the median of
   the na * nb differences b[j] - a[i]) and its distribution-free
   confidence interval at level 1 - alpha (Moses): the differences ranked
   c + 1 and na nb - c, c the lower alpha/2 critical value of U (exact
   for na + nb <= STATS_EXACT_MAX, else the normal approximation). On log
   times the shift is the log of the time ratio. Returns 0, or -1 with
   *lo = *hi = NAN when the level cannot be reached with samples this
   small (or out of memory); *est is set whenever na, nb >= 1. */
int stats_shift_ci(const double *a, int na, const double *b, int nb, double alpha, double *est,
                   double *lo, double *hi);

/* Paired samples: the Wilcoxon signed-rank test on differences d[0..n)
   (zeros dropped; exact for untied n <= STATS_EXACT_MAX, else the normal
   approximation with tie correction). r->u is W+, the rank sum of the
   positive differences. Returns 0, or -1 (n < 1, out of memory). */
int stats_signed_rank(const double *d, int n, stats_mwu *r);

/* The Hodges-Lehmann estimate of the centre of paired differences d (the
   median of the Walsh averages (d[i] + d[j]) / 2, i <= j) and its
   distribution-free 1 - alpha confidence interval (the Walsh averages
   ranked c + 1 and n(n+1)/2 - c, c the lower alpha/2 critical value of
   W+). Returns 0, or -1 with *lo = *hi = NAN when n is too small for
   that level. */
int stats_walsh_ci(const double *d, int n, double alpha, double *est, double *lo, double *hi);

/* Standard normal upper tail P(Z > z). */
double stats_normal_sf(double z);

#endif
