/* The verdict of convbench compare on one pair of samples, as a library
   call (used by the command and by the tests). */
#ifndef CONVBENCH_COMPARE_H
#define CONVBENCH_COMPARE_H

typedef enum { COMPARE_FASTER = -1, COMPARE_SAME = 0, COMPARE_SLOWER = 1 } compare_verdict_t;

/* base[0..nb) and cur[0..nc): times (or normalized times) of one key's
   repetitions. slower if the two-sided Mann-Whitney p < alpha and both
   median(cur)/median(base) and min(cur)/min(base) exceed
   1 + threshold_pct/100; faster if p < alpha and both ratios are below
   1/(1 + threshold_pct/100); else same. *ratio and *p (either may be NULL)
   receive the median ratio and the p-value. */
compare_verdict_t compare_verdict(const double *base, int nb, const double *cur, int nc,
                                  double alpha, double threshold_pct, double *ratio, double *p);

#endif
