#include <stdlib.h>
#include <string.h>
#include "median.h"

int cmp_double_asc(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double median_of(double *v, int n)
{
    if (n < 1) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double_asc);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void stats_summary(const double *v, int n, double *median, double *min, double *max)
{
    double *s = n > 0 ? malloc(sizeof(double) * (size_t)n) : NULL;
    if (!s) {
        *median = *min = *max = 0;
        return;
    }
    memcpy(s, v, sizeof(double) * (size_t)n);
    *median = median_of(s, n);
    *min = s[0];
    *max = s[n - 1];
    free(s);
}

static double quantile_sorted(const double *s, int n, double q)
{
    const double at = q * (n - 1);
    const int lo = (int)at;
    return lo + 1 < n ? s[lo] + (at - lo) * (s[lo + 1] - s[lo]) : s[lo];
}

void stats_quartiles(const double *v, int n, double *q1, double *q3)
{
    double *s = n > 0 ? malloc(sizeof(double) * (size_t)n) : NULL;
    if (!s) {
        *q1 = *q3 = 0;
        return;
    }
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_double_asc);
    *q1 = quantile_sorted(s, n, 0.25);
    *q3 = quantile_sorted(s, n, 0.75);
    free(s);
}
