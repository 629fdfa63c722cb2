/*
 * Plugins that fail the way real ones do, to prove the harness survives
 * them (FAULT_KIND, a compile definition):
 *   1 crash: SIGSEGV in train_step on rank 1 (rank 0 in a world of one)
 *   2 hang:  sleeps forever in train_step
 *   3 exits: calls exit(0) in train_step
 *   4 fails: reports an error through the host API from train_step on every rank
 *   5 exits1: calls exit(0) in train_step on rank 1 (rank 0 in a world of one)
 *      while the other ranks wait forever, as in a collective rank 1 never
 *      joins: mpirun ends them, and the reason must name rank 1
 *   6 orphan: every rank starts a process that detaches (fork, setsid) and
 *      sleeps forever, then trains normally: the world ends, the strays
 *      must be found, killed and named (harness/world/strays.h)
 *   7 forked: every rank starts a process that stays in its process group and
 *      sleeps forever, holding the output pipes mpirun gave the rank; the
 *      world must still end when the ranks do, and the process be named
 *   8 garbage: reports an error whose text is invalid UTF-8, escape
 *      sequences and control characters: the TAP must stay valid YAML
 *   9 slow: every step takes 10 s (a plugin too slow for the case's timeout,
 *      not a hung one): the world times out and is cleaned up like a hang
 *  10 oom: create raises SIGKILL on every rank above OOM_PARAMS parameters,
 *      as the kernel's out-of-memory killer would; below, it accounts DDP's
 *      fp32 AdamW model states (params 4, grads 4, optimizer 8 bytes each)
 *      and trains normally (the memory suite's budget search must count a
 *      killed probe as a miss)
 * Their capabilities are valid for the ddp suite, so only running them
 * reveals the fault. Other ranks train nothing and report a fixed loss.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtbench/plugin.h"

struct dtb_state {
    int rank, world_size;
    int64_t n_params;
    const dtb_host_api *host;
};

#if FAULT_KIND == 10
#define OOM_PARAMS 10000000
static const int64_t OOM_BYTES[3][2] = {
    {DTB_MEM_PARAMS, 4}, {DTB_MEM_GRADS, 4}, {DTB_MEM_OPTIM, 8}};

/* sign +1 at create, -1 at destroy */
static void oom_track(const dtb_state *s, int64_t sign)
{
    for (int k = 0; k < 3; k++)
        s->host->mem_track(s->host->ctx, (int32_t)OOM_BYTES[k][0],
                           sign * OOM_BYTES[k][1] * s->n_params);
}
#endif

static int create(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out)
{
    dtb_state *s = calloc(1, sizeof *s);
    if (!s) {
        host->error(host->ctx, "out of memory");
        return 1;
    }
    s->rank = spec->rank;
    s->world_size = spec->world_size;
    s->n_params = spec->model->n_params;
    s->host = host;
#if FAULT_KIND == 10
    if (s->n_params > OOM_PARAMS)
        raise(SIGKILL);
    oom_track(s, 1);
#endif
    *out = s;
    return 0;
}

static int train_step(dtb_state *s, int64_t step, dtb_step_report *r)
{
    (void)step;
#if FAULT_KIND == 1
    if (s->rank == (s->world_size > 1 ? 1 : 0))
        raise(SIGSEGV);
#elif FAULT_KIND == 2
    (void)s;
    for (;;)
        sleep(1000);
#elif FAULT_KIND == 3
    (void)s;
    exit(0);
#elif FAULT_KIND == 5
    if (s->rank == (s->world_size > 1 ? 1 : 0))
        exit(0);
    for (;;)
        sleep(1000);
#elif FAULT_KIND == 6 || FAULT_KIND == 7
    (void)s;
    if (step == 1) {
        pid_t pid = fork();
        if (pid == 0) {
            if (FAULT_KIND == 6)
                setsid();
            for (;;)
                sleep(1000);
        }
        if (pid < 0) {
            s->host->error(s->host->ctx, "fork failed");
            return 1;
        }
    }
#elif FAULT_KIND == 9
    (void)s;
    sleep(10);
#elif FAULT_KIND == 10
    (void)s;
#elif FAULT_KIND == 8
    s->host->error(s->host->ctx, "garbage \xff\xfe\xc3 \x1b[2J\x07 \xed\xa0\x80 \"q\" \xc2\x85 end");
    return 1;
#else
    s->host->error(s->host->ctx, "deliberate failure\nsecond line");
    return 1;
#endif
    r->loss = 1.0;
    r->grad_norm = -1.0;
    return 0;
}

static int get_params(dtb_state *s, float *out, int64_t n)
{
    (void)s;
    memset(out, 0, (size_t)n * sizeof *out);
    return 0;
}

static int get_counters(dtb_state *s, dtb_counters *out)
{
    (void)s;
    memset(out, 0, sizeof *out);
    return 0;
}

static int get_facts(dtb_state *s, dtb_facts *out)
{
    (void)s;
    *out = (dtb_facts){sizeof *out, DTB_STAGE_DDP, DTB_PREC_FP32, DTB_DTYPE_FP32, DTB_DTYPE_FP32,
                       0, -1, 0, 0};
    return 0;
}

static void destroy(dtb_state *s)
{
#if FAULT_KIND == 10
    oom_track(s, -1);
#endif
    free(s);
}

static const dtb_plugin table = {
    .abi_version = DTB_ABI_VERSION,
    .struct_size = sizeof(dtb_plugin),
    .name = FAULT_NAME,
    .version = "0",
    .description = "deliberately faulty (harness fault-isolation test)",
    .caps = DTB_CAP_DDP | DTB_CAP_FP32 | DTB_CAP_SGD_MOMENTUM | DTB_CAP_ADAMW |
            DTB_CAP_GRAD_CLIP | DTB_CAP_GRAD_ACCUM | DTB_CAP_UNEVEN_BATCH | DTB_CAP_MODEL_MLP |
            DTB_CAP_CPU,
    .create = create,
    .train_step = train_step,
    .get_params = get_params,
    .get_counters = get_counters,
    .get_facts = get_facts,
    .destroy = destroy,
};

const dtb_plugin *dtbench_plugin_entry(void);
const dtb_plugin *dtbench_plugin_entry(void)
{
    return &table;
}
