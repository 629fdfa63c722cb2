#include "worker_ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint_files.h"
#include "cli_parse.h"
#include "clock.h"
#include "npy.h"
#include "plugin_loader.h"

const char *const worker_ckpt_option_names[WORKER_CKPT_N_OPTIONS] = {
    "ckpt-root", "ckpt-save-steps", "ckpt-resume"};

int worker_ckpt_parse(const char *const values[WORKER_CKPT_N_OPTIONS], const case_config *cfg,
                      worker_ckpt *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    out->root = values[0];
    out->resume = values[2];
    if (values[1]) {
        if (!out->root) {
            snprintf(err, err_len, "worker: --ckpt-save-steps needs --ckpt-root");
            return -1;
        }
        if (cli_parse_i64_list("--ckpt-save-steps", values[1], 1, cfg->steps, out->save_steps,
                               WORKER_CKPT_MAX_SAVES, &out->n_saves, err, err_len) != 0)
            return -1;
        for (int k = 1; k < out->n_saves; k++) {
            if (out->save_steps[k] <= out->save_steps[k - 1]) {
                snprintf(err, err_len, "worker: --ckpt-save-steps must be ascending");
                return -1;
            }
        }
    }
    return 0;
}

int worker_ckpt_write_pid(const worker_ckpt *c, int rank, char *err, size_t err_len)
{
    if (!c->root)
        return 0;
    if (mkdir(c->root, 0755) != 0 && errno != EEXIST) { /* every rank may race to make it */
        snprintf(err, err_len, "cannot create --ckpt-root %.3000s: %s", c->root, strerror(errno));
        return -1;
    }
    char name[64], path[PATH_MAX + 64];
    snprintf(name, sizeof name, WORKER_CKPT_PID_FMT, rank);
    snprintf(path, sizeof path, "%s/%s", c->root, name);
    FILE *f = fopen(path, "w");
    int ok = f && fprintf(f, "%ld\n", (long)getpid()) > 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        snprintf(err, err_len, "cannot write %.3000s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int worker_ckpt_mark_trained(const worker_ckpt *c, int rank, char *err, size_t err_len)
{
    if (!c->root || rank != 0)
        return 0;
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", c->root, WORKER_CKPT_TRAINED);
    FILE *f = fopen(path, "w");
    if (!f || fclose(f) != 0) {
        snprintf(err, err_len, "cannot write %.3000s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int worker_ckpt_saves_at(const worker_ckpt *c, int64_t step)
{
    for (int k = 0; k < c->n_saves; k++)
        if (c->save_steps[k] == step)
            return 1;
    return 0;
}

/* ---- save ----------------------------------------------------------------- */

/* The host side of dtb_checkpoint_io during a save or a load: the first
 * refusal is kept for the message, since the plugin reports only that the
 * call failed. */
typedef struct io_ctx {
    ckpt_writer *writer;
    ckpt_reader *reader;
    char refusal[512];
} io_ctx;

static int io_write(void *ctx, int32_t array, int64_t first, int64_t count, const float *values)
{
    io_ctx *io = ctx;
    char why[512];
    if (!io->writer) {
        snprintf(why, sizeof why, "write called during a load");
    } else if (ckpt_writer_put(io->writer, array, first, count, values, why, sizeof why) == 0) {
        return 0;
    }
    if (!io->refusal[0])
        snprintf(io->refusal, sizeof io->refusal, "%s", why);
    return -1;
}

static int io_read(void *ctx, int32_t array, int64_t first, int64_t count, float *out)
{
    io_ctx *io = ctx;
    char why[512];
    if (!io->reader) {
        snprintf(why, sizeof why, "read called during a save");
    } else if (ckpt_read(io->reader, array, first, count, out, why, sizeof why) == 0) {
        return 0;
    }
    if (!io->refusal[0])
        snprintf(io->refusal, sizeof io->refusal, "%s", why);
    return -1;
}

static void fill_meta(const dtb_run_spec *spec, const worker_ckpt_writer *writer, int64_t step,
                      ckpt_meta *m)
{
    memset(m, 0, sizeof *m);
    const dtb_model_desc *d = spec->model;
    m->step = step;
    snprintf(m->model, sizeof m->model, "%s", d->name);
    m->model_kind = d->kind;
    m->n_params = d->n_params;
    m->n_tensors = d->n_tensors;
    for (int t = 0; t < d->n_tensors && t < CKPT_MAX_TENSORS; t++)
        m->tensors[t] = d->tensors[t];
    m->optimizer = spec->optimizer;
    m->lr = spec->lr, m->momentum = spec->momentum;
    m->beta1 = spec->beta1, m->beta2 = spec->beta2, m->eps = spec->eps;
    m->weight_decay = spec->weight_decay, m->clip_norm = spec->clip_norm;
    m->precision = spec->precision;
    m->global_batch = spec->global_batch;
    m->micro_batches = spec->micro_batches;
    m->seed = spec->seed;
    snprintf(m->writer_impl, sizeof m->writer_impl, "%s", writer->impl);
    m->writer_stage = writer->stage;
    m->writer_world = writer->world_size;
}

/* Appends one line to out_dir/WORKER_CKPT_ERROR_FILE. */
static int record_refusal(const char *out_dir, int64_t step, const char *why, char *err,
                          size_t err_len)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", out_dir, WORKER_CKPT_ERROR_FILE);
    FILE *f = fopen(path, "a");
    int ok = f && fprintf(f, "step %lld: %s\n", (long long)step, why) > 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        snprintf(err, err_len, "cannot write %.3000s: %s", path, strerror(errno));
    return ok ? 0 : -1;
}

/* Bytes of a checkpoint's array files (their .npy headers included). */
static int64_t checkpoint_bytes(const ckpt_meta *m)
{
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    const int n = ckpt_arrays_of(m->optimizer, arrays);
    const int64_t shape[1] = {m->n_params};
    char header[NPY_HEADER_CAP], why[128];
    size_t len = 0;
    if (npy_header(NPY_FLOAT32, shape, 1, header, sizeof header, &len, why, sizeof why) != 0)
        len = 0;
    return n * ((int64_t)len + 4 * m->n_params);
}

/* Rank 0: one line appended to <root>/WORKER_CKPT_TIMING, for the
 * harness's diagnostics and ci/bench-checkpoint.sh: "save" (first_s: from
 * the start to every rank's stores and fdatasync done; second_s: coverage,
 * sha256, manifest, renames and their fsyncs) or "load" (first_s: open and
 * verify, sha256 included; second_s: the plugin's reads). */
static int record_timing(const char *root, const char *what, int64_t step, int64_t bytes,
                         double first_s, double second_s, double total_s, char *err,
                         size_t err_len)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", root, WORKER_CKPT_TIMING);
    FILE *f = fopen(path, "a");
    int ok = f && fprintf(f, "%s step=%lld bytes=%lld first_s=%.6f second_s=%.6f total_s=%.6f\n",
                          what, (long long)step, (long long)bytes, first_s, second_s,
                          total_s) > 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        snprintf(err, err_len, "cannot write %.3000s: %s", path, strerror(errno));
    return ok ? 0 : -1;
}

/* Every rank learns whether every rank succeeded (a logical AND). */
static int all_ok(int mine, int *all)
{
    return MPI_Allreduce(&mine, all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD) == MPI_SUCCESS ? 0
                                                                                          : -1;
}

int worker_ckpt_save(const worker_ckpt *c, const dtb_plugin *plugin, dtb_state *state,
                     const dtb_run_spec *spec, const worker_ckpt_writer *writer, int64_t step,
                     const char *out_dir, int rank, char *err, size_t err_len)
{
    if (!DTB_PLUGIN_OPTIONAL_CKPT(plugin)) {
        snprintf(err, err_len, "plugin '%s' has no save_checkpoint", plugin->name);
        return -1;
    }
    const double t_start = monotonic_seconds();
    ckpt_meta *meta = calloc(1, sizeof *meta);
    if (!meta) {
        snprintf(err, err_len, "out of memory for the checkpoint manifest");
        return -1;
    }
    fill_meta(spec, writer, step, meta);
    /* Rank 0 prepares the staging directory and hands its path to all. */
    char stage[PATH_MAX] = "";
    int prepared = rank != 0 || ckpt_prepare(c->root, meta, stage, sizeof stage, err, err_len) == 0;
    int every = 0;
    if (all_ok(prepared, &every) != 0 ||
        MPI_Bcast(stage, (int)sizeof stage, MPI_CHAR, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
        snprintf(err, err_len, "MPI failed while preparing the checkpoint of step %lld",
                 (long long)step);
        free(meta);
        return -1;
    }
    if (!every) {
        if (prepared)
            snprintf(err, err_len, "rank 0 could not prepare the checkpoint of step %lld",
                     (long long)step);
        free(meta);
        return -1;
    }
    ckpt_writer writer_files;
    io_ctx ctx = {.writer = &writer_files};
    int rc = ckpt_writer_open(&writer_files, stage, spec->optimizer, spec->model->n_params, rank,
                              err, err_len);
    if (rc == 0) {
        dtb_checkpoint_io io = {.struct_size = sizeof io, .ctx = &ctx, .step = step,
                                .write = io_write, .read = io_read};
        rc = plugin->save_checkpoint(state, &io) != 0 ? -2 : 0;
        if (rc == 0)
            rc = ckpt_writer_close(&writer_files, err, err_len);
        else
            ckpt_writer_abandon(&writer_files);
    }
    if (rc == -2) {
        /* The caller reports the plugin's own message; add the harness's. */
        snprintf(err, err_len, "%s", ctx.refusal);
        free(meta);
        return -2;
    }
    if (all_ok(rc == 0, &every) != 0) {
        snprintf(err, err_len, "MPI failed after saving the checkpoint of step %lld",
                 (long long)step);
        free(meta);
        return -1;
    }
    if (!every) { /* the failing rank ends the world with its reason */
        if (rc == 0)
            snprintf(err, err_len, "another rank failed to store its part of step %lld",
                     (long long)step);
        free(meta);
        return -1;
    }
    int result = 0;
    const double t_stored = monotonic_seconds();
    if (rank == 0) {
        char final_dir[PATH_MAX], why[1024];
        if (ckpt_commit(stage, c->root, meta, spec->world_size, final_dir, sizeof final_dir, why,
                        sizeof why) != 0) {
            ckpt_discard(stage);
            result = record_refusal(out_dir, step, why, err, err_len);
        } else {
            const double t_end = monotonic_seconds();
            result = record_timing(c->root, "save", step, checkpoint_bytes(meta),
                                   t_stored - t_start, t_end - t_stored, t_end - t_start, err,
                                   err_len);
        }
    }
    free(meta);
    if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) {
        snprintf(err, err_len, "MPI_Barrier after the checkpoint of step %lld failed",
                 (long long)step);
        return -1;
    }
    return result;
}

/* ---- load ----------------------------------------------------------------- */

/* The checkpoint must hold what this run trains: same model (name, size,
 * every tensor's name, shape and offset) and optimizer. */
static int check_fits(const ckpt_meta *m, const dtb_run_spec *spec, const char *dir, char *err,
                      size_t err_len)
{
    const dtb_model_desc *d = spec->model;
    if (strcmp(m->model, d->name) != 0 || m->n_params != d->n_params ||
        m->n_tensors != d->n_tensors) {
        snprintf(err, err_len, "checkpoint %.2000s holds model %s (%lld parameters, %d tensors); "
                 "this run trains %s (%lld, %d)", dir, m->model, (long long)m->n_params,
                 (int)m->n_tensors, d->name, (long long)d->n_params, (int)d->n_tensors);
        return -1;
    }
    for (int t = 0; t < d->n_tensors; t++) {
        const dtb_tensor_desc *a = &m->tensors[t], *b = &d->tensors[t];
        int same = strcmp(a->name, b->name) == 0 && a->ndim == b->ndim &&
                   a->offset == b->offset && a->numel == b->numel;
        for (int k = 0; same && k < a->ndim; k++)
            same = a->shape[k] == b->shape[k];
        if (!same) {
            snprintf(err, err_len, "checkpoint %.2000s: tensor %d is %s, this model's is %s "
                     "(or their shapes or offsets differ)", dir, t, a->name, b->name);
            return -1;
        }
    }
    if (m->optimizer != spec->optimizer) {
        snprintf(err, err_len, "checkpoint %.2000s holds %s state; this run uses %s", dir,
                 optimizer_kind_name(m->optimizer), optimizer_kind_name(spec->optimizer));
        return -1;
    }
    if (m->step >= spec->steps) {
        snprintf(err, err_len, "checkpoint %.2000s is of step %lld; this run ends at step %lld",
                 dir, (long long)m->step, (long long)spec->steps);
        return -1;
    }
    return 0;
}

/* Rank 0 verifies every file's sha256 (ckpt_open) and tells the others,
 * which then open without hashing: the bytes are hashed once per load, not
 * once per rank, and every rank refuses a bad checkpoint with rank 0's
 * line. Collective. */
static int open_verified_once(ckpt_reader *reader, const char *dir, int rank, char *err,
                              size_t err_len)
{
    char verdict[1024] = "";
    if (rank == 0 && ckpt_open(reader, dir, verdict, sizeof verdict) != 0 && !verdict[0])
        snprintf(verdict, sizeof verdict, "checkpoint %.900s: refused", dir);
    if (MPI_Bcast(verdict, (int)sizeof verdict, MPI_CHAR, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
        if (rank == 0 && !verdict[0])
            ckpt_close(reader);
        snprintf(err, err_len, "MPI_Bcast of the checkpoint's verification failed");
        return -1;
    }
    if (verdict[0]) {
        snprintf(err, err_len, "%s", verdict);
        return -1;
    }
    return rank == 0 ? 0 : ckpt_open_unverified(reader, dir, err, err_len);
}

int worker_ckpt_load(const worker_ckpt *c, const dtb_plugin *plugin, dtb_state *state,
                     const dtb_run_spec *spec, int rank, int64_t *step, char *err,
                     size_t err_len)
{
    if (!DTB_PLUGIN_OPTIONAL_CKPT(plugin)) {
        snprintf(err, err_len, "plugin '%s' has no load_checkpoint", plugin->name);
        return -1;
    }
    ckpt_reader *reader = calloc(1, sizeof *reader);
    if (!reader) {
        snprintf(err, err_len, "out of memory for the checkpoint reader");
        return -1;
    }
    const double t_start = monotonic_seconds();
    if (open_verified_once(reader, c->resume, rank, err, err_len) != 0) {
        free(reader);
        return -1;
    }
    const double t_open = monotonic_seconds();
    int rc = check_fits(&reader->meta, spec, c->resume, err, err_len);
    if (rc == 0) {
        io_ctx ctx = {.reader = reader};
        dtb_checkpoint_io io = {.struct_size = sizeof io, .ctx = &ctx,
                                .step = reader->meta.step, .write = io_write, .read = io_read};
        *step = reader->meta.step;
        if (plugin->load_checkpoint(state, &io) != 0) {
            snprintf(err, err_len, "%s", ctx.refusal);
            rc = -2;
        }
    }
    if (rc == 0 && c->root && rank == 0) { /* rank 0's view of the load */
        const double t_end = monotonic_seconds();
        rc = record_timing(c->root, "load", reader->meta.step, checkpoint_bytes(&reader->meta),
                           t_open - t_start, t_end - t_open, t_end - t_start, err, err_len);
    }
    ckpt_close(reader);
    free(reader);
    return rc;
}
