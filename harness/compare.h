/* The verdict of convbench compare on one pair of samples, as a library
   call (used by the command and by the tests). */
#ifndef CONVBENCH_COMPARE_H
#define CONVBENCH_COMPARE_H

typedef enum {
    COMPARE_FASTER = -1,
    COMPARE_SAME = 0,
    COMPARE_SLOWER = 1,
    COMPARE_INCONCLUSIVE = 2,
} compare_verdict_t;

/* The exit status of convbench compare and of make regress. */
enum {
    COMPARE_EXIT_OK = 0,           /* every case same or faster */
    COMPARE_EXIT_SLOWER = 1,       /* at least one case slower */
    COMPARE_EXIT_INPUT = 2,        /* unreadable input, usage, nothing to compare */
    COMPARE_EXIT_INCONCLUSIVE = 3, /* none slower, but some case could not be decided */
    COMPARE_EXIT_MACHINES = 4,     /* BASE and NEW come from different machines */
};

typedef struct {
    compare_verdict_t verdict;
    double ratio;        /* median(cur) / median(base) */
    double min_ratio;    /* min(cur) / min(base) */
    double p;            /* two-sided Mann-Whitney p-value */
    double ci_lo, ci_hi; /* 1 - 2 alpha confidence interval of the time
                            ratio (Hodges-Lehmann on log times): ci_hi is
                            the one-sided 1 - alpha upper bound; NAN when
                            the samples are too small to reach that level */
} compare_result;

/* base[0..nb) and cur[0..nc): positive times (or normalized times) of one
   key's repetitions; alpha < 0.5.
     slower        p < alpha, and both ratio and min_ratio above 1 + t;
     faster        p < alpha, and both below 1 / (1 + t);
     inconclusive  neither, and the samples are too small for the test to
                   reach alpha, or the upper confidence bound ci_hi is
                   out of reach or above 1 + t: a slowdown of the
                   threshold's size cannot be ruled out;
     same          otherwise (t = threshold_pct / 100).
   Fills *r when it is not NULL. */
compare_verdict_t compare_verdict(const double *base, int nb, const double *cur, int nc,
                                  double alpha, double threshold_pct, compare_result *r);

/* The same verdict on paired samples: base[i] and cur[i] measured side by
   side (one round of make regress). The test is the Wilcoxon signed-rank
   test on the log ratios cur[i]/base[i], the interval the Walsh-average
   interval of their centre, ratio its estimate; min_ratio is still
   min(cur)/min(base). A spell of the machine that slows both members of a
   pair cancels in their ratio. */
compare_verdict_t compare_verdict_paired(const double *base, const double *cur, int n, double alpha,
                                         double threshold_pct, compare_result *r);

/* "slower", "faster", "same" or "inconclusive" */
const char *compare_verdict_name(compare_verdict_t v);

#endif
