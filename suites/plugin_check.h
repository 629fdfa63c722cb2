/*
 * The template of `dtbench plugin-check` (suites/plugin_check.c): not a
 * suite of the registry (`run --suite` does not take it), but the recipe a
 * capability plan (harness/judge/plan_caps.h) expands into one small case
 * per capability a plugin declares. plan_caps.h says how it reads
 * global_batch and micro_batches.
 */
#ifndef DTB_SUITES_PLUGIN_CHECK_H
#define DTB_SUITES_PLUGIN_CHECK_H

#include "suite.h"

extern const dtb_suite dtb_suite_plugin_check;

#endif
