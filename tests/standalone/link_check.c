/* Built outside the project's own rules: only conv.h and `make -s
   print-ldlibs`. Runs one forward pass of every backend that accepts a
   small shape and checks a known answer. */
#include <stdio.h>
#include <string.h>
#include "conv.h"

int main(void)
{
    /* 1x3x3x1 input of ones, 3x3x1x2 weights of ones and twos: sums 9, 18 */
    conv_shape s = { 1, 3, 3, 1, 2, 3, 3, 1, 0 };
    float x[9], w[18], y[2];
    for (int i = 0; i < 9; i++) {
        x[i] = 1;
        w[2 * i] = 1;
        w[2 * i + 1] = 2;
    }
    int bad = 0, n = 0;
    for (const conv_backend *const *b = conv_backends(); *b; b++) {
        if ((*b)->unsupported(&s)) continue;
        conv_plan *p = (*b)->plan(&s);
        if (!p) {
            printf("link-check: %s: plan failed\n", (*b)->name);
            bad = 1;
            continue;
        }
        (*b)->forward(p, x, w, NULL, y);
        (*b)->destroy(p);
        if (y[0] < 8.999f || y[0] > 9.001f || y[1] < 17.999f || y[1] > 18.001f) {
            printf("link-check: %s: got %g %g, want 9 18\n", (*b)->name, y[0], y[1]);
            bad = 1;
        }
        n++;
    }
    if (!n) {
        printf("link-check: no backend ran\n");
        return 1;
    }
    if (strcmp(conv_pass_name(CONV_BACKWARD_WEIGHTS), "backward_weights")) {
        printf("link-check: conv_pass_name: got %s\n", conv_pass_name(CONV_BACKWARD_WEIGHTS));
        return 1;
    }
    return bad;
}
