/*
 * `dtbench show RUN --case N|KEY`: one recorded case in full, read from the
 * results database: its identity, its whole configuration (the config JSON
 * the run recorded, one field per line, json_lines.h) and every check with
 * its diagnostics (passing ones too: the bus bytes and memory ratios are
 * there). Read-only.
 */
#ifndef DTB_HARNESS_SHOW_CASE_H
#define DTB_HARNESS_SHOW_CASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "results_db.h"

/* `which`: a case index as `dtbench show` numbers the cases ("case 3: ..."),
 * or a case key (the text after "case N: " there). A key that several cases
 * of the run share is refused, naming their indices. 0, or -1 with one line
 * in err (no such case, a database error). */
int show_case_print(results_db *db, int64_t run_id, const char *which, FILE *out, char *err,
                    size_t err_len);

#endif
