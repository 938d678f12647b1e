/* convbench backends: the registered backends, the ISA in use and, for an
   optional shape, whether each backend supports it and what would run. */
#include <math.h>
#include <stdio.h>
#include "cli.h"
#include "commands.h"
#include "conv.h"
#include "cpu.h"
#include "run_limits.h"
#include "shape_parse.h"

#define CMD "backends"

int cmd_backends(int argc, char **argv)
{
    static const struct option opts[] = {
        { "shape", required_argument, 0, 's' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    conv_shape s = { 8, 56, 56, 64, 64, 3, 3, 1, 1 };
    int o;
    optind = 1;
    while ((o = cli_getopt(CMD, argc, argv, "s:", opts)) != -1) {
        if (o == 's') {
            bench_layer l;
            char err[512];
            if (shape_parse(optarg, &l, err, sizeof err)) {
                cli_error(CMD, "--shape '%s': %s", optarg, err);
                return 2;
            }
            s = l.shape;
        } else if (o == 'h') {
            printf("usage: convbench backends [--shape N,H,W,C,K,R,S,STRIDE,PAD[,MEMBER=V...] | "
                   "DESCRIPTOR]\n"
                   "Lists every backend, whether it supports the shape (default\n"
                   "8,56,56,64,64,3,3,1,1; or a benchdnn descriptor such as\n"
                   "mb32ic32ih13oc64kh3ph0) and the implementation each pass would run.\n");
            return 0;
        } else {
            return 2;
        }
    }
    if (cli_no_arguments(CMD, argc, argv)) return 2;
    /* planning runs the shape (oneDNN times its variants): its tensors, an
       input, output and weight and their gradients, must fit the memory */
    const double f = sizeof(float) * 2.0, st = s.stride > 0 ? s.stride : 1;
    const double oh = floor((s.h + 2.0 * s.pad - s.r) / st) + 1,
                 ow = floor((s.w + 2.0 * s.pad - s.s) / st) + 1;
    char err[256];
    if (oh > 0 && ow > 0 &&
        limits_memory_check(f * ((double)s.n * s.h * s.w * s.c + (double)s.n * oh * ow * s.k +
                                 (double)s.r * s.s * s.c * s.k),
                            "the shape (its tensors)", err, sizeof err)) {
        cli_error(CMD, "%s", err);
        return 2;
    }
    printf("ISA: %s (CPU supports %s; CONVBENCH_ISA lowers it)\n", cpu_isa_name(cpu_isa_active()),
           cpu_isa_name(cpu_isa_supported()));
    char desc[256];
    shape_describe(&s, desc, sizeof desc);
    printf("shape: %s\n", desc);
    for (const conv_backend *const *b = conv_backends(); *b; b++) {
        const char *why = (*b)->unsupported(&s);
        if (why) {
            printf("%-16s unsupported: %s\n", (*b)->name, why);
            continue;
        }
        conv_plan *pl = (*b)->plan(&s);
        if (!pl) {
            printf("%-16s plan failed\n", (*b)->name);
            continue;
        }
        printf("%-16s\n", (*b)->name);
        for (int p = 0; p < 3; p++)
            printf("    %-17s %s\n", conv_pass_name((conv_pass)p),
                   (*b)->impl ? (*b)->impl(pl, (conv_pass)p) : "-");
        (*b)->destroy(pl);
    }
    return 0;
}
