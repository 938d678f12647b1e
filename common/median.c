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
