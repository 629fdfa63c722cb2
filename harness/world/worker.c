#include "worker.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "case_config.h"
#include "cli_parse.h"
#include "clock.h"
#include "model_host.h"
#include "plugin_loader.h"
#include "pmpi_count.h"
#include "proc_mem.h"
#include "rank_file.h"
#include "worker_ckpt.h"

typedef struct worker_ctx {
    int rank, world_size;
    const char *out_dir;
    const char *impl_path;
    case_config cfg;
    net_desc model;            /* what spec.model points into */
    dtb_run_spec spec;
    model_host host;
    dtb_host_api api;
    dtb_loaded_plugin plugin;
    dtb_state *state;
    rank_result result;
    void *compute_scratch;     /* one get_compute_params call, or NULL */
    worker_ckpt ckpt;          /* checkpoint saves and resume (worker_ckpt.h) */
} worker_ctx;

/* The worker's one piece of file-scope state: an atexit handler takes no
 * argument. Armed (with the marker's path) from when the rank is known to
 * when the worker is done, by worker_main only; while armed, a process exit
 * leaves WORKER_EXITED_MARK. */
static struct {
    char path[4200];
    volatile int armed;
} early_exit;

static void mark_early_exit(void)
{
    if (!early_exit.armed)
        return;
    int fd = open(early_exit.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
}

/* Writes the empty marker file NAME_FMT (with the rank) in out_dir. */
static int write_mark(const char *out_dir, const char *name_fmt, int rank, char *path,
                      size_t len)
{
    char name[64];
    snprintf(name, sizeof name, name_fmt, rank);
    if (snprintf(path, len, "%s/%s", out_dir, name) >= (int)len)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return fd >= 0 && close(fd) == 0 ? 0 : -1;
}

/* Rank 0 under Open MPI: the job id, for the harness to find this world's
 * shared-memory segments (WORKER_MPI_JOB_FILE). */
static int write_job_id(const worker_ctx *w)
{
    const char *job = getenv("OMPI_MCA_ess_base_jobid");
    if (w->rank != 0 || !job || !*job)
        return 0;
    char path[4200];
    if (snprintf(path, sizeof path, "%s/%s", w->out_dir, WORKER_MPI_JOB_FILE) >=
        (int)sizeof path)
        return -1;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const int wrote = fprintf(f, "%s\n", job) > 0;
    return fclose(f) == 0 && wrote ? 0 : -1;
}

/* started-<rank> now, exited-<rank> if the process ends before disarm. */
static int arm_markers(const worker_ctx *w, char *err, size_t err_len)
{
    char path[4200];
    char exited[64];
    snprintf(exited, sizeof exited, WORKER_EXITED_MARK, w->rank);
    if (write_mark(w->out_dir, WORKER_STARTED_MARK, w->rank, path, sizeof path) ||
        write_job_id(w) != 0 ||
        snprintf(early_exit.path, sizeof early_exit.path, "%s/%s", w->out_dir, exited) >=
            (int)sizeof early_exit.path ||
        atexit(mark_early_exit) != 0) {
        snprintf(err, err_len, "cannot write the rank markers in %s: %s", w->out_dir,
                 strerror(errno));
        return -1;
    }
    early_exit.armed = 1;
    return 0;
}

_Noreturn void worker_abort_world(const char *who, const char *out_dir, int rank,
                                  const char *text)
{
    char message[1300];
    snprintf(message, sizeof message, "%s", text);
    for (char *p = message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (out_dir) {
        char path[4200], tmp[4300];
        snprintf(path, sizeof path, "%s/error-%d.txt", out_dir, rank);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (f) {
            int ok = fprintf(f, "%s\n", message) > 0;
            if (fclose(f) == 0 && ok)
                rename(tmp, path);
        }
    }
    fprintf(stderr, "dtbench %s rank %d: %s\n", who, rank, message);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, WORKER_EXIT_PLUGIN_ERROR);
    exit(WORKER_EXIT_PLUGIN_ERROR); /* not reached */
}

/* Ends the world with error-<rank>.txt saying text. */
static int fail(worker_ctx *w, const char *text)
{
    worker_abort_world("worker", w->out_dir, w->rank, text);
}

/* "<call> failed: <plugin message>" for a plugin call that returned rc. */
static int fail_call(worker_ctx *w, const char *call, int rc)
{
    char msg[1200];
    if (w->host.error[0])
        snprintf(msg, sizeof msg, "%s failed: %s", call, w->host.error);
    else
        snprintf(msg, sizeof msg, "%s returned %d without a message", call, rc);
    return fail(w, msg);
}

/* A plugin's checkpoint call failed: its own message, and the harness's
 * refusal it may have been reacting to. */
static int fail_plugin_refused(worker_ctx *w, const char *call, const char *refusal)
{
    char msg[1800];
    if (!refusal[0])
        return fail_call(w, call, -1);
    snprintf(msg, sizeof msg, "%s failed: %.700s (the harness had refused: %.900s)", call,
             w->host.error[0] ? w->host.error : "no message", refusal);
    return fail(w, msg);
}

static int parse_args(worker_ctx *w, int argc, char **argv, char *err, size_t err_len)
{
    enum { N_OPTS = CASE_CONFIG_N_OPTIONS + 2 + WORKER_CKPT_N_OPTIONS };
    const char *values[CASE_CONFIG_N_OPTIONS] = {0};
    const char *ckpt_values[WORKER_CKPT_N_OPTIONS] = {0};
    const char *const *names = case_config_option_names();
    cli_option opts[N_OPTS];
    for (int i = 0; i < CASE_CONFIG_N_OPTIONS; i++)
        opts[i] = (cli_option){names[i], &values[i], NULL};
    opts[CASE_CONFIG_N_OPTIONS] = (cli_option){"impl", &w->impl_path, NULL};
    opts[CASE_CONFIG_N_OPTIONS + 1] = (cli_option){"out", &w->out_dir, NULL};
    for (int i = 0; i < WORKER_CKPT_N_OPTIONS; i++)
        opts[CASE_CONFIG_N_OPTIONS + 2 + i] =
            (cli_option){worker_ckpt_option_names[i], &ckpt_values[i], NULL};
    if (cli_parse_options("worker", argc, argv, opts, N_OPTS, err, err_len))
        return -1;
    if (!w->impl_path || !w->out_dir) {
        snprintf(err, err_len, "worker: --impl and --out are required");
        return -1;
    }
    /* Every rank may race to create it: EEXIST is success. A reproduce line
     * from TAP thus runs as printed, after the harness removed the directory. */
    if (mkdir(w->out_dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "worker: cannot create --out %s: %s", w->out_dir,
                 strerror(errno));
        return -1;
    }
    if (case_config_from_values(values, &w->cfg, err, err_len) != 0 ||
        worker_ckpt_parse(ckpt_values, &w->cfg, &w->ckpt, err, err_len) != 0)
        return -1;
    return worker_ckpt_write_pid(&w->ckpt, w->rank, err, err_len);
}

static int setup_world(worker_ctx *w, char *err, size_t err_len)
{
    /* Solo: each rank is a world of one of its own (compute-only timing). */
    if (case_config_to_spec_any(&w->cfg, w->cfg.solo ? 0 : w->rank, w->cfg.solo ? 1 : w->world_size,
                                &w->model, &w->spec, err, err_len) != 0)
        return -1;
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, w->rank, MPI_INFO_NULL,
                            &local) != MPI_SUCCESS ||
        MPI_Comm_rank(local, &w->spec.local_rank) != MPI_SUCCESS ||
        MPI_Comm_size(local, &w->spec.local_size) != MPI_SUCCESS ||
        MPI_Comm_free(&local) != MPI_SUCCESS) {
        snprintf(err, err_len, "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) failed");
        return -1;
    }
    w->spec.mpi_comm_fortran = (int64_t)MPI_Comm_c2f(w->cfg.solo ? MPI_COMM_SELF : MPI_COMM_WORLD);
    if (w->cfg.solo)
        w->spec.local_rank = 0, w->spec.local_size = 1;
    if (plugin_load_to_train(w->impl_path, w->cfg.required_caps, &w->plugin, err, err_len) != 0)
        return -1;
    uint64_t distributed = DTB_CAP_DDP | DTB_CAP_ZERO1 | DTB_CAP_ZERO2 | DTB_CAP_ZERO3;
    uint64_t caps = w->plugin.table->caps;
    if ((caps & DTB_CAP_SINGLE_DEVICE) && !(caps & distributed) && w->world_size != 1 &&
        !w->cfg.solo) {
        snprintf(err, err_len, "plugin '%s' is single-device only and cannot run %d ranks",
                 w->plugin.table->name, w->world_size);
        return -1;
    }
    w->result.rank = w->rank;
    w->result.world_size = w->world_size;
    w->result.steps = w->cfg.steps;
    w->result.n_params = w->spec.model->n_params;
    w->result.n_checks = w->cfg.n_checks;
    w->result.rss_base = w->result.rss_hwm = -1; /* unknown until measured */
    if (rank_result_alloc(&w->result) != 0) {
        snprintf(err, err_len, "out of memory for %lld steps x %lld params",
                 (long long)w->cfg.steps, (long long)w->spec.model->n_params);
        return -1;
    }
    for (int k = 0; k < w->cfg.n_checks; k++)
        w->result.check_steps[k] = w->cfg.check_steps[k];
    if (model_host_init(&w->host, &w->spec, &w->api) != 0) {
        snprintf(err, err_len, "%s", w->host.error);
        return -1;
    }
    return 0;
}

/* The optional get_compute_params after checked step number k (0-based)
 * into the storage prepare_buffers made: the first call's dtype sets the
 * stride, later calls must agree. */
static int fetch_compute_params(worker_ctx *w, int k, void *scratch)
{
    const dtb_plugin *p = w->plugin.table;
    int (*get)(dtb_state *, void *, int64_t, int32_t *) = DTB_PLUGIN_OPTIONAL(p, get_compute_params);
    if (!get)
        return 0;
    const int64_t n = w->spec.model->n_params;
    int32_t dtype = -1;
    int rc = get(w->state, scratch, n, &dtype);
    if (rc != 0)
        return fail_call(w, "get_compute_params", rc);
    rank_result *r = &w->result;
    if (dtype != DTB_DTYPE_FP32 && dtype != DTB_DTYPE_BF16) {
        char msg[128];
        snprintf(msg, sizeof msg, "get_compute_params returned dtype %d (fp32 0 or bf16 1)",
                 (int)dtype);
        return fail(w, msg);
    }
    if (!r->has_compute_params) {
        r->has_compute_params = 1;
        r->compute_dtype = dtype;
    } else if (dtype != r->compute_dtype) {
        char msg[128];
        snprintf(msg, sizeof msg, "get_compute_params returned dtype %d, earlier %d",
                 (int)dtype, (int)r->compute_dtype);
        return fail(w, msg);
    }
    size_t bytes = (size_t)n * rank_compute_bytes(r);
    memcpy((char *)r->compute_params + (size_t)k * bytes, scratch, bytes);
    return 0;
}

/* Everything the worker itself fills between create and destroy, allocated
 * and made resident now, before the process's memory base is read: the
 * parameters of the checked steps (rank_result_alloc) and, when the plugin
 * has get_compute_params, room for one call (n elements of up to 4 bytes)
 * and for every checked step's copy at 4 bytes per element, the most a
 * dtype needs (the first call's dtype sets the stride actually used). */
static int prepare_buffers(worker_ctx *w)
{
    rank_result *r = &w->result;
    const size_t n = (size_t)w->spec.model->n_params, checks = (size_t)w->cfg.n_checks;
    proc_mem_touch(r->params, checks * n * sizeof *r->params);
    if (!DTB_PLUGIN_OPTIONAL(w->plugin.table, get_compute_params) || checks == 0)
        return 0;
    w->compute_scratch = malloc(n * 4 + 4);
    r->compute_params = calloc(checks * n, 4);
    if (!w->compute_scratch || !r->compute_params)
        return fail(w, "out of memory for the compute parameters");
    proc_mem_touch(w->compute_scratch, n * 4 + 4);
    proc_mem_touch(r->compute_params, checks * n * 4);
    return 0;
}

/* Resets the high-water mark and reads the base; both stay -1 (unknown)
 * unless the reset worked, since a mark from before it would include
 * whatever the process held at its own peak before create. */
static void measure_memory_base(worker_ctx *w)
{
    if (proc_mem_reset_peak() == 0)
        w->result.rss_base = proc_mem_rss();
}

static void measure_memory_peak(worker_ctx *w)
{
    if (w->result.rss_base >= 0)
        w->result.rss_hwm = proc_mem_hwm();
    if (w->result.rss_hwm < 0)
        w->result.rss_base = w->result.rss_hwm = -1;
}

/* A checkpoint save after `step` (worker_ckpt.h); 0 or fail()'s code. */
static int save(worker_ctx *w, int64_t step)
{
    char err[1024];
    const worker_ckpt_writer writer = {.impl = w->plugin.table->name, .stage = w->spec.stage,
                                       .world_size = w->spec.world_size};
    int rc = worker_ckpt_save(&w->ckpt, w->plugin.table, w->state, &w->spec, &writer, step,
                              w->out_dir, w->rank, err, sizeof err);
    if (rc == -2)
        return fail_plugin_refused(w, "save_checkpoint", err);
    return rc == 0 ? 0 : fail(w, err);
}

/* Loads --ckpt-resume after create: training goes on at its step + 1. The
 * steps before have no figures (NaN loss, norm and coefficient; 0 s), and
 * no parameters may be checked there. */
static int resume(worker_ctx *w, int64_t *first_step)
{
    char err[1024];
    int64_t step = 0;
    int rc = worker_ckpt_load(&w->ckpt, w->plugin.table, w->state, &w->spec, w->rank, &step,
                              err, sizeof err);
    if (rc == -2)
        return fail_plugin_refused(w, "load_checkpoint", err);
    if (rc != 0)
        return fail(w, err);
    if (w->cfg.n_checks > 0 && w->cfg.check_steps[0] <= step) {
        snprintf(err, sizeof err, "--check-steps %lld is not after the checkpoint's step %lld",
                 (long long)w->cfg.check_steps[0], (long long)step);
        return fail(w, err);
    }
    for (int64_t s = 0; s < step; s++) {
        w->result.loss[s] = w->result.grad_norm[s] = w->result.clip_coef[s] = NAN;
        w->result.step_seconds[s] = 0;
    }
    *first_step = step + 1;
    return 0;
}

/* The traffic counted so far: MPI (PMPI) and, for a Python module, the
 * torch.distributed collectives the bridge counted. 0, or -1 when either
 * could not count exactly. */
static int read_measured(worker_ctx *w, dtb_counters *out)
{
    int rc = pmpi_count_read(out);
    if (w->plugin.traffic) {
        dtb_counters torch_traffic = {.struct_size = sizeof torch_traffic};
        if (w->plugin.traffic(&torch_traffic) != 0)
            rc = -1;
        for (int kind = 0; kind < DTB_COLL_KIND_COUNT; kind++) {
            out->calls[kind] += torch_traffic.calls[kind];
            out->bytes[kind] += torch_traffic.bytes[kind];
        }
    }
    return rc;
}

/* create, the steps (timed), get_params at check steps, counters, facts,
 * destroy. Returns 0, or the exit code after fail(). Every rank enters each
 * step through a barrier, so a step's time on each rank starts at the same
 * moment and the world's step time is the maximum over ranks.
 *
 * The MPI traffic counted (pmpi_count.h) is that of create and train_step
 * only: counting is on exactly while they run, so the step barrier,
 * get_params, get_compute_params and everything else the harness or the
 * plugin does between them is never counted. */
static int train(worker_ctx *w)
{
    const dtb_plugin *p = w->plugin.table;
    int rc = prepare_buffers(w);
    if (rc != 0)
        return rc;
    measure_memory_base(w);
    pmpi_count_reset();
    pmpi_count_on();
    rc = p->create(&w->spec, &w->api, &w->state);
    pmpi_count_off();
    if (rc != 0)
        return fail_call(w, "create", rc);
    read_measured(w, &w->result.measured_create);
    void *compute_scratch = w->compute_scratch;
    int k = 0;
    int64_t first_step = 1;
    if (w->ckpt.resume && (rc = resume(w, &first_step)) != 0)
        return rc;
    for (int64_t step = first_step; step <= w->cfg.steps; step++) {
        dtb_step_report report = {.struct_size = sizeof report, .grad_norm = -1, .clip_coef = -1};
        if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS)
            return fail(w, "MPI_Barrier before a step failed");
        pmpi_count_on();
        double t0 = monotonic_seconds();
        rc = p->train_step(w->state, step, &report);
        w->result.step_seconds[step - 1] = monotonic_seconds() - t0;
        pmpi_count_off();
        if (rc != 0) {
            char call[64];
            snprintf(call, sizeof call, "train_step(%lld)", (long long)step);
            return fail_call(w, call, rc);
        }
        w->result.loss[step - 1] = report.loss;
        w->result.grad_norm[step - 1] = report.grad_norm;
        w->result.clip_coef[step - 1] = report.clip_coef;
        if (worker_ckpt_saves_at(&w->ckpt, step) && (rc = save(w, step)) != 0)
            return rc;
        if (k < w->cfg.n_checks && w->cfg.check_steps[k] == step) {
            const int64_t n = w->spec.model->n_params;
            float *dst = w->result.params + (size_t)k * (size_t)n;
            rc = p->get_params(w->state, dst, n);
            if (rc != 0)
                return fail_call(w, "get_params", rc);
            if (compute_scratch && (rc = fetch_compute_params(w, k, compute_scratch)) != 0)
                return rc;
            k++;
        }
    }
    free(compute_scratch);
    w->compute_scratch = NULL;
    char err[512];
    if (worker_ckpt_mark_trained(&w->ckpt, w->rank, err, sizeof err) != 0)
        return fail(w, err);
    w->result.measured_valid = read_measured(w, &w->result.measured) == 0;
    /* Read back what was passed, whatever struct_size says on return. */
    dtb_counters counters = {.struct_size = sizeof counters};
    if ((rc = p->get_counters(w->state, &counters)) != 0)
        return fail_call(w, "get_counters", rc);
    memcpy(w->result.counters.calls, counters.calls, sizeof counters.calls);
    memcpy(w->result.counters.bytes, counters.bytes, sizeof counters.bytes);
    dtb_facts facts = {.struct_size = sizeof facts};
    if ((rc = p->get_facts(w->state, &facts)) != 0)
        return fail_call(w, "get_facts", rc);
    facts.struct_size = sizeof facts;
    w->result.facts = facts;
    p->destroy(w->state);
    w->state = NULL;
    measure_memory_peak(w);
    memcpy(w->result.mem_peak, w->host.peak, sizeof w->result.mem_peak);
    w->result.mem_total_peak = w->host.peak_total;
    return 0;
}

static void usage_worker(FILE *f)
{
    fprintf(f, "usage: dtbench worker --impl PLUGIN.so --out DIR --model NAME ... (internal)\n"
               "\n"
               "One rank of a rank world, started by `dtbench run` under mpirun; the\n"
               "reproduce line of a failed case's TAP diagnostics shows a full command.\n"
               "Writes DIR/rank-<rank>.bin, or DIR/error-<rank>.txt and exits %d when\n"
               "the plugin reports an error.\n",
            WORKER_EXIT_PLUGIN_ERROR);
}

int worker_main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) { /* before MPI, which would want a world */
            usage_worker(stdout);
            return 0;
        }
    }
    /* A rank dies with its launcher (mpirun), which dies with dtbench
     * (launcher.c): no rank outlives its run, even after a SIGKILL. */
    const pid_t launcher = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != launcher) {
        fprintf(stderr, "dtbench worker: cannot tie this rank to its launcher's life\n");
        return WORKER_EXIT_PLUGIN_ERROR;
    }
    worker_ctx w;
    memset(&w, 0, sizeof w);
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "dtbench worker: MPI_Init_thread failed\n");
        return WORKER_EXIT_PLUGIN_ERROR;
    }
    if (MPI_Comm_rank(MPI_COMM_WORLD, &w.rank) != MPI_SUCCESS ||
        MPI_Comm_size(MPI_COMM_WORLD, &w.world_size) != MPI_SUCCESS)
        return fail(&w, "MPI_Comm_rank/size failed");
    char err[1024];
    if (provided < MPI_THREAD_FUNNELED)
        return fail(&w, "MPI does not provide MPI_THREAD_FUNNELED");
    if (parse_args(&w, argc, argv, err, sizeof err) != 0 ||
        arm_markers(&w, err, sizeof err) != 0 || setup_world(&w, err, sizeof err) != 0)
        return fail(&w, err);
    int rc = train(&w);
    if (rc != 0)
        return rc;
    char path[4200];
    snprintf(path, sizeof path, "%s/rank-%d.bin", w.out_dir, w.rank);
    if (rank_file_write(path, &w.result, err, sizeof err) != 0)
        return fail(&w, err);
    early_exit.armed = 0; /* finished: its rank file says so */
    rank_result_free(&w.result);
    net_desc_free(&w.model);
    if (MPI_Finalize() != MPI_SUCCESS) {
        fprintf(stderr, "dtbench worker rank %d: MPI_Finalize failed\n", w.rank);
        return WORKER_EXIT_PLUGIN_ERROR;
    }
    return 0;
}
