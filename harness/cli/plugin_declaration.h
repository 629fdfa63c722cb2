/*
 * What `dtbench plugin-check` says about a plugin before running it: what
 * its table declares (name, version, description, ABI, every capability,
 * the optional functions it provides) and, per suite of the registry,
 * whether `dtbench run --suite` would accept it and which of its cases
 * would be skipped; and after planning, the declared capabilities no case
 * exercises.
 */
#ifndef DTB_HARNESS_PLUGIN_DECLARATION_H
#define DTB_HARNESS_PLUGIN_DECLARATION_H

#include <stdint.h>
#include <stdio.h>

#include "plugin_probe.h"

/* The declaration, then one line per suite. */
void plugin_declaration_print(const char *path, const plugin_probe *p, FILE *f);

/* "  not exercised  cuda (cases run on the CPU), ..." for the capabilities in
 * declared & ~exercised; nothing when there are none. */
void plugin_unexercised_print(uint64_t declared, uint64_t exercised, FILE *f);

#endif
