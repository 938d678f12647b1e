/* Mann-Whitney U test (see stats.h). Ranks by sorting the pooled sample
   once (O(N log N)); the exact distribution is the number of ways to pick
   na of the ranks 1..N with each rank sum, a knapsack count in
   O(N * na * N^2 / 2) at worst, used only for N <= STATS_EXACT_MAX. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "median.h"
#include "stats.h"

typedef struct {
    double v;
    int from_a;
} tagged;

static int cmp_tagged(const void *x, const void *y)
{
    double a = ((const tagged *)x)->v, b = ((const tagged *)y)->v;
    return (a > b) - (a < b);
}

double stats_normal_sf(double z) { return 0.5 * erfc(z / sqrt(2.0)); }

double stats_mwu_min_p(int na, int nb)
{
    /* C(na+nb, na) in floating point: fine for the sizes benchmarks use */
    double c = 1;
    for (int i = 1; i <= na; i++) c = c * (nb + i) / i;
    double p = 2 / c;
    return p < 1 ? p : 1;
}

/* The null distribution of the rank sum R of na ranks drawn from 1..n
   without replacement: counts[s] = number of the C(n, na) choices with
   R = s, s in 0..n(n+1)/2. NULL when out of memory; free() it. */
static double *rank_sum_counts(int n, int na)
{
    int maxs = n * (n + 1) / 2;
    /* ways[k][s]: subsets of size k of the ranks seen so far with sum s */
    double *ways = calloc((size_t)(na + 1) * (size_t)(maxs + 1), sizeof *ways);
    if (!ways) return NULL;
    ways[0] = 1;
    for (int rank = 1; rank <= n; rank++)
        for (int k = na < rank ? na : rank; k >= 1; k--) {
            double *to = ways + (size_t)k * (maxs + 1), *from = ways + (size_t)(k - 1) * (maxs + 1);
            for (int s = maxs; s >= rank; s--) to[s] += from[s - rank];
        }
    double *row = malloc(sizeof *row * (size_t)(maxs + 1));
    if (row) memcpy(row, ways + (size_t)na * (maxs + 1), sizeof *row * (size_t)(maxs + 1));
    free(ways);
    return row;
}

/* P(R <= rsum), or -1 when out of memory. */
static double exact_cdf(int n, int na, int rsum)
{
    double *row = rank_sum_counts(n, na);
    if (!row) return -1;
    double below = 0, total = 0;
    for (int s = 0; s <= n * (n + 1) / 2; s++) {
        total += row[s];
        if (s <= rsum) below += row[s];
    }
    free(row);
    return below / total;
}

int stats_mann_whitney(const double *a, int na, const double *b, int nb, stats_mwu *r)
{
    memset(r, 0, sizeof *r);
    r->p = 1;
    if (na < 1 || nb < 1) return -1;
    int n = na + nb;
    tagged *all = malloc(sizeof *all * (size_t)n);
    if (!all) return -1;
    for (int i = 0; i < na; i++) all[i] = (tagged){ a[i], 1 };
    for (int i = 0; i < nb; i++) all[na + i] = (tagged){ b[i], 0 };
    qsort(all, (size_t)n, sizeof *all, cmp_tagged);

    /* average ranks over each group of ties */
    double rank_a = 0, tie_sum = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && all[j + 1].v == all[i].v) j++;
        double avg = 0.5 * (i + j) + 1, t = j - i + 1;
        for (int k = i; k <= j; k++)
            if (all[k].from_a) rank_a += avg;
        tie_sum += t * t * t - t;
        i = j + 1;
    }
    free(all);

    double mean = 0.5 * na * nb;
    r->u = rank_a - 0.5 * na * (na + 1.0);
    if (tie_sum == 0 && n <= STATS_EXACT_MAX) {
        /* two-sided: twice the smaller tail; U and na*nb - U are symmetric */
        double u_small = r->u < mean ? r->u : na * (double)nb - r->u;
        double cdf = exact_cdf(n, na, (int)llround(u_small + 0.5 * na * (na + 1.0)));
        if (cdf < 0) return -1;
        r->exact = 1;
        r->p = fmin(1.0, 2 * cdf);
        return 0;
    }
    double var = na * (double)nb / 12.0 * ((n + 1) - tie_sum / ((double)n * (n - 1)));
    if (!(var > 0)) return 0; /* every value tied: no evidence */
    double d = fabs(r->u - mean) - 0.5;
    r->z = d > 0 ? d / sqrt(var) : 0;
    r->p = fmin(1.0, 2 * stats_normal_sf(r->z));
    return 0;
}

/* z with P(Z > z) = p, by bisection. */
static double normal_isf(double p)
{
    double z = 0, lo = 0, hi = 40;
    for (int i = 0; i < 200; i++) {
        z = 0.5 * (lo + hi);
        if (stats_normal_sf(z) > p)
            lo = z;
        else
            hi = z;
    }
    return z;
}

/* The largest c >= 0 with (counts[from] + ... + counts[from + c]) / total
   <= alpha / 2 for a statistic whose null counts are counts[from..to], or
   -1 when no c qualifies (the level cannot be reached). */
static long lower_tail_exact(const double *counts, int from, int to, double alpha)
{
    double total = 0, below = 0;
    for (int s = from; s <= to; s++) total += counts[s];
    long c = -1;
    for (int s = from; s <= to; s++) {
        below += counts[s];
        if (below / total > alpha / 2) break;
        c = s - from;
    }
    return c;
}

/* The same from the normal approximation N(mean, sd^2), continuity
   corrected. */
static long lower_tail_normal(double mean, double sd, double alpha)
{
    double c = floor(mean - 0.5 - normal_isf(alpha / 2) * sd);
    return c >= 0 ? (long)c : -1;
}

/* The largest c with P(U <= c) <= alpha / 2 under the null, or -1. */
static long lower_critical_u(int na, int nb, double alpha)
{
    int n = na + nb;
    double cells = (double)na * nb;
    if (n > STATS_EXACT_MAX)
        return lower_tail_normal(0.5 * cells, sqrt(cells * (n + 1) / 12.0), alpha);
    double *row = rank_sum_counts(n, na);
    if (!row) return -1;
    long c = lower_tail_exact(row, na * (na + 1) / 2, n * (n + 1) / 2, alpha);
    free(row);
    return c;
}

int stats_shift_ci(const double *a, int na, const double *b, int nb, double alpha, double *est,
                   double *lo, double *hi)
{
    *est = *lo = *hi = NAN;
    if (na < 1 || nb < 1) return -1;
    size_t m = (size_t)na * (size_t)nb;
    double *d = malloc(sizeof *d * m);
    if (!d) return -1;
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++) d[(size_t)i * nb + j] = b[j] - a[i];
    qsort(d, m, sizeof *d, cmp_double_asc);
    *est = m % 2 ? d[m / 2] : 0.5 * (d[m / 2 - 1] + d[m / 2]);
    long c = lower_critical_u(na, nb, alpha);
    if (c >= 0 && (size_t)c < m - 1 - (size_t)c) {
        *lo = d[c];
        *hi = d[m - 1 - (size_t)c];
    }
    free(d);
    return isnan(*lo) ? -1 : 0;
}

/* Null counts of the signed-rank statistic W+ of n untied ranks: counts[s]
   = number of the 2^n sign patterns with W+ = s, s in 0..n(n+1)/2. */
static double *signed_rank_counts(int n)
{
    int maxs = n * (n + 1) / 2;
    double *c = calloc((size_t)maxs + 1, sizeof *c);
    if (!c) return NULL;
    c[0] = 1;
    for (int r = 1; r <= n; r++)
        for (int s = maxs; s >= r; s--) c[s] += c[s - r];
    return c;
}

/* The largest c with P(W+ <= c) <= alpha / 2, or -1. */
static long lower_critical_w(int n, double alpha)
{
    if (n > STATS_EXACT_MAX)
        return lower_tail_normal(n * (n + 1) / 4.0, sqrt(n * (n + 1) * (2.0 * n + 1) / 24.0),
                                 alpha);
    double *c = signed_rank_counts(n);
    if (!c) return -1;
    long crit = lower_tail_exact(c, 0, n * (n + 1) / 2, alpha);
    free(c);
    return crit;
}

int stats_signed_rank(const double *d, int n, stats_mwu *r)
{
    memset(r, 0, sizeof *r);
    r->p = 1;
    if (n < 1) return -1;
    tagged *a = malloc(sizeof *a * (size_t)n);
    if (!a) return -1;
    int m = 0;
    for (int i = 0; i < n; i++) /* zero differences carry no sign: dropped */
        if (d[i] != 0) a[m++] = (tagged){ fabs(d[i]), d[i] > 0 };
    qsort(a, (size_t)m, sizeof *a, cmp_tagged);
    double wplus = 0, tie_sum = 0;
    for (int i = 0; i < m;) {
        int j = i;
        while (j + 1 < m && a[j + 1].v == a[i].v) j++;
        double avg = 0.5 * (i + j) + 1, t = j - i + 1;
        for (int k = i; k <= j; k++)
            if (a[k].from_a) wplus += avg;
        tie_sum += t * t * t - t;
        i = j + 1;
    }
    free(a);
    r->u = wplus;
    if (m == 0) return 0;
    double mean = m * (m + 1) / 4.0;
    if (tie_sum == 0 && m == n && m <= STATS_EXACT_MAX) {
        double *c = signed_rank_counts(m);
        if (!c) return -1;
        double total = ldexp(1.0, m), w_small = wplus < mean ? wplus : m * (m + 1) / 2.0 - wplus,
               below = 0;
        for (int s = 0; s <= (int)llround(w_small); s++) below += c[s];
        free(c);
        r->exact = 1;
        r->p = fmin(1.0, 2 * below / total);
        return 0;
    }
    double var = m * (m + 1) * (2.0 * m + 1) / 24.0 - tie_sum / 48.0;
    if (!(var > 0)) return 0;
    double dev = fabs(wplus - mean) - 0.5;
    r->z = dev > 0 ? dev / sqrt(var) : 0;
    r->p = fmin(1.0, 2 * stats_normal_sf(r->z));
    return 0;
}

int stats_walsh_ci(const double *d, int n, double alpha, double *est, double *lo, double *hi)
{
    *est = *lo = *hi = NAN;
    if (n < 1) return -1;
    size_t m = (size_t)n * (size_t)(n + 1) / 2, k = 0;
    double *w = malloc(sizeof *w * m);
    if (!w) return -1;
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++) w[k++] = 0.5 * (d[i] + d[j]);
    qsort(w, m, sizeof *w, cmp_double_asc);
    *est = m % 2 ? w[m / 2] : 0.5 * (w[m / 2 - 1] + w[m / 2]);
    long c = lower_critical_w(n, alpha);
    if (c >= 0 && (size_t)c < m - 1 - (size_t)c) {
        *lo = w[c];
        *hi = w[m - 1 - (size_t)c];
    }
    free(w);
    return isnan(*lo) ? -1 : 0;
}
