/*
 * The dtbench subcommands. Each returns the process exit status:
 * 0 everything passed, 1 a check failed, 2 bad input (one line on stderr).
 */
#ifndef DTB_HARNESS_COMMANDS_H
#define DTB_HARNESS_COMMANDS_H

#include <stdio.h>

#define EXIT_CHECKS_FAILED 1
#define EXIT_BAD_INPUT 2

int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_trajectory(int argc, char **argv);
int cmd_plugin_check(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);

void usage_main(FILE *f);
void usage_run(FILE *f);
void usage_list(FILE *f);
void usage_trajectory(FILE *f);
void usage_plugin_check(FILE *f);
void usage_checkpoint(FILE *f);

#endif
