/* The test suites, in the order they run. A new suite: one function in its
   own tests/test_*.c file, one line here. */
#ifndef CONVBENCH_SUITES_H
#define CONVBENCH_SUITES_H

typedef struct {
    const char *name;
    void (*run)(void);
} test_suite;

void test_conv(void);
void test_gemm(void);
void test_ukr(void);
void test_refusals(void);
void test_winograd(void);
void test_results(void);
void test_scale(void);
void test_adam(void);
void test_layers(void);
void test_spec(void);
void test_train(void);
void test_checkpoint(void);
void test_train_cli(void);
void test_compare(void);
void test_autotune(void);
void test_reports(void);
void test_command_line(void);
void test_shapes(void);
void test_export(void);
void test_fuzz_inputs(void);
void test_atomic(void);

static const test_suite test_suites[] = {
    { "refusals", test_refusals },
    { "gemm", test_gemm },
    { "ukr", test_ukr },
    { "conv", test_conv },
    { "winograd", test_winograd },
    { "adam", test_adam },
    { "layers", test_layers },
    { "spec", test_spec },
    { "train", test_train },
    { "checkpoint", test_checkpoint },
    { "train-cli", test_train_cli },
    { "autotune", test_autotune },
    { "results", test_results },
    { "scale", test_scale },
    { "compare", test_compare },
    { "report", test_reports },
    { "cli", test_command_line },
    { "shapes", test_shapes },
    { "export", test_export },
    { "fuzz", test_fuzz_inputs },
    { "atomic", test_atomic },
    { 0, 0 },
};

#endif
