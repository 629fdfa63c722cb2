/*
 * Every suite dtbench knows (suites/registry.c), in `dtbench list` order.
 * Only the command line looks suites up by name: the layers below it are
 * handed a dtb_suite.
 */
#ifndef DTB_SUITES_REGISTRY_H
#define DTB_SUITES_REGISTRY_H

#include <stddef.h>

#include "suite.h"

size_t suite_count(void);
const dtb_suite *suite_at(size_t index);
const dtb_suite *suite_find(const char *name); /* NULL if unknown */

#endif
