/*
 * Plugins whose reported figures are wrong (or right in an unusual way), for
 * "reported figures match measured" (VERIFY_KIND, a compile definition):
 *   1 halfcomm:  an in-place MPI_Allreduce of the whole parameter vector
 *                (fp32) every step, on MPI_COMM_WORLD of the run spec, but
 *                reports half its bytes; tracks its memory honestly.
 *   2 untracked: allocates and touches a buffer the size of mlp-20m's fp32
 *                AdamW state (2 * 4 * 18915344 bytes, about 151 MB) in
 *                create and tracks none of it (only its parameter vector);
 *                communicates nothing.
 *   3 ring:      the same allreduce as a ring of MPI_Sendrecv (a
 *                reduce-scatter then an allgather of N chunks), reported as
 *                the one allreduce it implements: its bus bytes are what it
 *                sends, so it must pass. A world of one sends nothing and
 *                reports nothing.
 * Their training is a stand-in (fixed loss, parameters reported as zeros):
 * only the figures are under test. The data are the model's initial values
 * from the host, never all zero. Capabilities valid for the ddp suite.
 */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "dtbench/plugin.h"

#define UNTRACKED_BYTES (2ull * 4ull * 18915344ull)

struct dtb_state {
    const dtb_host_api *host;
    MPI_Comm comm;
    int rank, size;
    int64_t n;                 /* elements reduced (ring: padded to N chunks) */
    int64_t tmp_bytes;         /* the ring's receive chunk */
    float *buf, *tmp;
    unsigned char *hidden;     /* untracked */
    dtb_counters counters;
};

static int fail(const dtb_host_api *host, const char *msg)
{
    host->error(host->ctx, msg);
    return 1;
}

static void destroy(dtb_state *s)
{
    if (!s)
        return;
    if (s->buf)
        s->host->mem_track(s->host->ctx, DTB_MEM_PARAMS, -s->n * 4);
    if (s->tmp)
        s->host->mem_track(s->host->ctx, DTB_MEM_COMM, -s->tmp_bytes);
    free(s->buf);
    free(s->tmp);
    free(s->hidden);
    free(s);
}

static int create(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out)
{
    dtb_state *s = calloc(1, sizeof *s);
    if (!s)
        return fail(host, "out of memory");
    s->host = host;
    s->comm = MPI_Comm_f2c((MPI_Fint)spec->mpi_comm_fortran);
    if (MPI_Comm_rank(s->comm, &s->rank) != MPI_SUCCESS ||
        MPI_Comm_size(s->comm, &s->size) != MPI_SUCCESS) {
        destroy(s);
        return fail(host, "MPI_Comm_rank/size failed");
    }
    const dtb_model_desc *m = spec->model;
    int64_t chunk = (m->n_params + s->size - 1) / s->size;
    s->n = VERIFY_KIND == 3 ? chunk * s->size : m->n_params;
    s->buf = malloc((size_t)s->n * 4);
    s->tmp_bytes = VERIFY_KIND == 3 ? chunk * 4 : 0;
    s->tmp = s->tmp_bytes ? malloc((size_t)s->tmp_bytes) : NULL;
    if (!s->buf || (VERIFY_KIND == 3 && !s->tmp)) {
        destroy(s);
        return fail(host, "out of memory for the parameters");
    }
    host->mem_track(host->ctx, DTB_MEM_PARAMS, s->n * 4);
    if (s->tmp)
        host->mem_track(host->ctx, DTB_MEM_COMM, s->tmp_bytes);
    for (int64_t i = m->n_params; i < s->n; i++)
        s->buf[i] = 1.0f;
    for (int t = 0; t < m->n_tensors; t++) {
        const dtb_tensor_desc *d = &m->tensors[t];
        if (host->init_params(host->ctx, t, 0, d->numel, s->buf + d->offset) != 0) {
            destroy(s);
            return fail(host, "init_params failed");
        }
    }
    if (VERIFY_KIND == 2) {
        s->hidden = malloc(UNTRACKED_BYTES);
        if (!s->hidden) {
            destroy(s);
            return fail(host, "out of memory for the untracked buffer");
        }
        for (size_t i = 0; i < UNTRACKED_BYTES; i += 1024)
            s->hidden[i] = (unsigned char)(i >> 10);
    }
    *out = s;
    return 0;
}

#if VERIFY_KIND == 3
/* Ring allreduce (sum) of buf, N chunks: N-1 reduce-scatter steps, then N-1
 * allgather steps, each sending one chunk to the next rank. */
static int ring_allreduce(dtb_state *s)
{
    const int N = s->size, next = (s->rank + 1) % N, prev = (s->rank + N - 1) % N;
    const int64_t chunk = s->n / N;
    for (int step = 0; step < 2 * (N - 1); step++) {
        int send = ((s->rank - step) % N + N) % N, recv = ((s->rank - step - 1) % N + N) % N;
        float *recv_to = step < N - 1 ? s->tmp : s->buf + recv * chunk;
        if (MPI_Sendrecv(s->buf + send * chunk, (int)chunk, MPI_FLOAT, next, step, recv_to,
                         (int)chunk, MPI_FLOAT, prev, step, s->comm,
                         MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -1;
        if (step < N - 1)
            for (int64_t i = 0; i < chunk; i++)
                s->buf[recv * chunk + i] += s->tmp[i];
    }
    return 0;
}
#endif

static int train_step(dtb_state *s, int64_t step, dtb_step_report *r)
{
    (void)step;
#if VERIFY_KIND == 1
    if (MPI_Allreduce(MPI_IN_PLACE, s->buf, (int)s->n, MPI_FLOAT, MPI_SUM, s->comm) !=
        MPI_SUCCESS)
        return fail(s->host, "MPI_Allreduce failed");
    s->counters.calls[DTB_COLL_ALLREDUCE] += 1;
    s->counters.bytes[DTB_COLL_ALLREDUCE] += (uint64_t)s->n * 4 / 2; /* the lie */
#elif VERIFY_KIND == 3
    if (s->size > 1) {
        if (ring_allreduce(s) != 0)
            return fail(s->host, "MPI_Sendrecv failed");
        s->counters.calls[DTB_COLL_ALLREDUCE] += 1;
        s->counters.bytes[DTB_COLL_ALLREDUCE] += (uint64_t)s->n * 4;
    }
#endif
    for (int64_t i = 0; i < s->n; i++) /* keep the values bounded */
        s->buf[i] /= (float)s->size;
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
    memcpy(out->calls, s->counters.calls, sizeof out->calls);
    memcpy(out->bytes, s->counters.bytes, sizeof out->bytes);
    return 0;
}

static int get_facts(dtb_state *s, dtb_facts *out)
{
    (void)s;
    *out = (dtb_facts){sizeof *out, DTB_STAGE_DDP, DTB_PREC_FP32, DTB_DTYPE_FP32, DTB_DTYPE_FP32,
                       0, -1, 0, 0};
    return 0;
}

static const dtb_plugin table = {
    .abi_version = DTB_ABI_VERSION,
    .struct_size = sizeof(dtb_plugin),
    .name = VERIFY_NAME,
    .version = "0",
    .description = "reported figures deliberately off (harness verification test)",
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
