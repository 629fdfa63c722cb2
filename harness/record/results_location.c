#include "results_location.h"

#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"

const char *results_location_path(const char *db_opt)
{
    if (db_opt)
        return db_opt;
    const char *env = getenv(DTB_DB_ENV);
    return env && *env ? env : RESULTS_DEFAULT_FILE;
}

int results_location_timeout_ms(int *ms, char *err, size_t err_len)
{
    *ms = RESULTS_DEFAULT_TIMEOUT_MS;
    const char *env = getenv(DTB_DB_TIMEOUT_ENV);
    if (!env || !*env)
        return 0;
    double s;
    if (cli_parse_double(DTB_DB_TIMEOUT_ENV, env, 0, 86400, &s, err, err_len))
        return -1;
    *ms = (int)(s * 1000.0 + 0.5);
    return 0;
}

int results_location_open(const char *db_opt, results_mode mode, results_db *db, char *err,
                          size_t err_len)
{
    int ms;
    memset(db, 0, sizeof *db);
    if (results_location_timeout_ms(&ms, err, err_len))
        return -1;
    return results_open(results_location_path(db_opt), mode, ms, db, err, err_len);
}
