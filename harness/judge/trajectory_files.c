#include "trajectory_files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_host.h"
#include "npy.h"
#include "trajectory_layout.h"

/* One array as the staged file `rel`. */
static int write_array(staged_dir *dir, const char *rel, npy_dtype dtype, const int64_t *shape,
                       int ndim, const void *data, char *err, size_t err_len)
{
    char path[PATH_MAX];
    if (staged_dir_path(dir, rel, path, sizeof path, err, err_len) != 0)
        return -1;
    return npy_write(path, dtype, shape, ndim, data, err, err_len);
}

/* One array as the staged file "step0007/<name>" of step s. */
static int write_step_array(staged_dir *dir, const trajectory *t, int64_t s, const char *name,
                            npy_dtype dtype, const int64_t *shape, int ndim, const void *data,
                            char *err, size_t err_len)
{
    char rel[256];
    const int w = snprintf(rel, sizeof rel, TRAJ_STEP_PREFIX "%0*lld/%s",
                           traj_step_digits(t->steps), (long long)s, name);
    if (w < 0 || (size_t)w >= sizeof rel) {
        snprintf(err, err_len, "the name of %s of step %lld is too long", name, (long long)s);
        return -1;
    }
    return write_array(dir, rel, dtype, shape, ndim, data, err, err_len);
}

/* scalars.npy: one row per step, the columns of trajectory_layout.h. */
static int write_scalars(staged_dir *dir, const trajectory *t, const trajectory_bounds *e, char *err,
                         size_t err_len)
{
    double *table = malloc((size_t)t->steps * TRAJ_N_COLS * sizeof *table);
    if (table == NULL) {
        snprintf(err, err_len, "out of memory for the scalar table");
        return -1;
    }
    for (int64_t s = 0; s < t->steps; s++) {
        double *row = table + (size_t)s * TRAJ_N_COLS;
        row[TRAJ_COL_STEP] = (double)(s + 1);
        row[TRAJ_COL_BASELINE_LOSS] = t->baseline_loss[s];
        row[TRAJ_COL_BASELINE_GRAD_NORM] = t->baseline_grad_norm[s];
        row[TRAJ_COL_BASELINE_CLIP_COEF] = t->baseline_clip_coef[s];
        row[TRAJ_COL_ORACLE_LOSS] = t->oracle.loss[s];
        row[TRAJ_COL_ORACLE_GRAD_NORM] = t->oracle.grad_norm[s];
        row[TRAJ_COL_ORACLE_CLIP_COEF] = t->oracle_clip_coef[s];
        row[TRAJ_COL_ENVELOPE_LOSS] = e->loss[s];
        row[TRAJ_COL_ENVELOPE_GRAD_NORM] = e->grad_norm[s];
    }
    const int64_t shape[2] = {t->steps, TRAJ_N_COLS};
    const int rc = write_array(dir, TRAJ_SCALARS_FILE, NPY_FLOAT64, shape, 2, table, err, err_len);
    free(table);
    return rc;
}

/* Step s's samples, micro-batch m = split_range(B, M, m) of the global batch
 * in its order, from the host API's sample_batch. x and y hold the largest
 * micro-batch. */
static int write_step_data(staged_dir *dir, const case_config *c, const trajectory *t,
                           const dtb_host_api *api, int64_t s, float *x, int32_t *y, char *err,
                           size_t err_len)
{
    const int64_t inputs = c->model->dims[0];
    for (int m = 0; m < c->micro_batches; m++) {
        int64_t first, count;
        split_range(c->global_batch, c->micro_batches, m, &first, &count);
        if (api->sample_batch(api->ctx, s, first, count, x, y) != 0) {
            snprintf(err, err_len, "the host API refused samples %lld..%lld of step %lld",
                     (long long)first, (long long)(first + count - 1), (long long)s);
            return -1;
        }
        char x_name[64], y_name[64];
        const int64_t x_shape[2] = {count, inputs}, y_shape[1] = {count};
        snprintf(x_name, sizeof x_name, TRAJ_MICRO_PREFIX "%d/" TRAJ_X_FILE, m);
        snprintf(y_name, sizeof y_name, TRAJ_MICRO_PREFIX "%d/" TRAJ_Y_FILE, m);
        if (write_step_array(dir, t, s, x_name, NPY_FLOAT32, x_shape, 2, x, err, err_len) ||
            write_step_array(dir, t, s, y_name, NPY_INT32, y_shape, 1, y, err, err_len))
            return -1;
    }
    return 0;
}

/* The parameters after step s: baseline, oracle, tolerance bound. */
static int write_step_params(staged_dir *dir, const trajectory *t, const trajectory_bounds *e, int64_t s,
                             char *err, size_t err_len)
{
    const size_t row = (size_t)(s - 1) * (size_t)t->n_params;
    const int64_t shape[1] = {t->n_params};
    return write_step_array(dir, t, s, TRAJ_BASELINE_PARAMS_FILE, NPY_FLOAT32, shape, 1,
                            t->baseline_params + row, err, err_len) ||
                   write_step_array(dir, t, s, TRAJ_ORACLE_PARAMS_FILE, NPY_FLOAT64, shape, 1,
                                    t->oracle.params + row, err, err_len) ||
                   write_step_array(dir, t, s, TRAJ_ENVELOPE_PARAMS_FILE, NPY_FLOAT64, shape, 1,
                                    e->params + row, err, err_len)
               ? -1
               : 0;
}

static int write_steps(staged_dir *dir, const case_config *c, const trajectory *t,
                       const trajectory_bounds *e, char *err, size_t err_len)
{
    dtb_run_spec spec;
    mlp_model_desc model;
    case_config_to_spec(c, 0, 1, &model, &spec);
    model_host host;
    dtb_host_api api;
    if (model_host_init(&host, &spec, &api) != 0) {
        snprintf(err, err_len, "host API: %s", host.error);
        return -1;
    }
    /* split_range's parts differ by at most one: the largest is the last. */
    int64_t first, most;
    split_range(c->global_batch, c->micro_batches, c->micro_batches - 1, &first, &most);
    float *x = malloc((size_t)(most > 0 ? most : 1) * (size_t)c->model->dims[0] * sizeof *x);
    int32_t *y = malloc((size_t)(most > 0 ? most : 1) * sizeof *y);
    int rc = x && y ? 0 : -1;
    if (rc != 0)
        snprintf(err, err_len, "out of memory for a micro-batch of %lld samples", (long long)most);
    for (int64_t s = 1; rc == 0 && s <= t->steps; s++)
        rc = write_step_data(dir, c, t, &api, s, x, y, err, err_len) ||
             write_step_params(dir, t, e, s, err, err_len);
    free(x);
    free(y);
    return rc ? -1 : 0;
}

static int write_recipe(staged_dir *dir, const case_config *c, const trajectory_names *names,
                        const trajectory *t, const trajectory_bounds *e, char *err, size_t err_len)
{
    char path[PATH_MAX];
    if (staged_dir_path(dir, TRAJ_RECIPE_FILE, path, sizeof path, err, err_len) != 0)
        return -1;
    errno = 0;
    FILE *f = fopen(path, "wx");
    if (f == NULL) {
        snprintf(err, err_len, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    errno = 0;
    int failed = trajectory_recipe_write(f, c, names, t, e) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        snprintf(err, err_len, "writing %s failed: %s", path,
                 saved ? strerror(saved) : "write error");
        return -1;
    }
    return 0;
}

int trajectory_write(staged_dir *dir, const case_config *c, const trajectory_names *names,
                     const trajectory *t, const trajectory_bounds *e, char *err, size_t err_len)
{
    if (e->steps != t->steps || e->n_params != t->n_params) {
        snprintf(err, err_len, "the bounds (%lld x %lld) do not match the trajectory "
                 "(%lld x %lld)", (long long)e->steps, (long long)e->n_params,
                 (long long)t->steps, (long long)t->n_params);
        return -1;
    }
    const int64_t n_shape[1] = {t->n_params};
    if (write_array(dir, TRAJ_INIT_FILE, NPY_FLOAT32, n_shape, 1, t->init, err, err_len) != 0 ||
        write_scalars(dir, t, e, err, err_len) != 0 ||
        write_steps(dir, c, t, e, err, err_len) != 0)
        return -1;
    /* Last: a folder with recipe.json has everything else. */
    return write_recipe(dir, c, names, t, e, err, err_len);
}
