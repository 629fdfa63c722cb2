/*
 * The commands over the results database (docs/results.md). Each returns
 * the process exit status: 0 done (gate: no regression), 1 gate: HEAD
 * regressed, 2 bad input (one line on stderr, nothing altered).
 */
#ifndef DTB_HARNESS_CMD_RESULTS_H
#define DTB_HARNESS_CMD_RESULTS_H

#include <stdio.h>

int cmd_runs(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_report(int argc, char **argv);

void usage_runs(FILE *f);
void usage_show(FILE *f);
void usage_compare(FILE *f);
void usage_gate(FILE *f);
void usage_tag(FILE *f);
void usage_export(FILE *f);
void usage_report(FILE *f);

#endif
