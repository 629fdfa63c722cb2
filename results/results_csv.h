/*
 * Long-format CSV export: one row per case x metric x sample, written with
 * libcsv (every field quoted by csv_fwrite, "" doubling quotes inside it),
 * comma-separated, rows ending in "\n", a header row first. Integers are
 * decimal; sample values are printed with 17 significant digits, which
 * read back to the identical double; SQL NULL is an empty field.
 *
 * The file is written under a temporary name in the same directory, parsed
 * back with libcsv and compared field by field with a second read of the
 * database, and only then renamed over `path`: a failed export leaves any
 * existing file as it was.
 */
#ifndef DTB_RESULTS_CSV_H
#define DTB_RESULTS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "results_db.h"

#define RESULTS_CSV_COLUMNS 24

/* The header row's names, in column order. */
const char *const *results_csv_header(void);

/* Exports run_id (0: every run) to path; *rows data rows were written and
 * verified. */
int results_export_csv(results_db *db, int64_t run_id, const char *path, int64_t *rows,
                       char *err, size_t err_len);

#endif
