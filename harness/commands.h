/* The subcommands of convbench: each takes (argc, argv) with argv[0] its
   own name and returns the process exit code (0 ok, 1 failed check,
   2 bad input or usage). */
#ifndef CONVBENCH_COMMANDS_H
#define CONVBENCH_COMMANDS_H

int cmd_backends(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_scale(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
