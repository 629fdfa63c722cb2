/* check_measured.h on synthetic rank results: reported figures equal to the
 * measured ones pass; reporting half (or twice) the traffic fails naming the
 * rank, both volumes and the ratio; a ring of sends reported as the
 * allreduce it implements passes; differences inside the tolerance pass and
 * just outside fail; a world of one compares raw bytes; processes that all
 * grew beyond their tracked peak plus the slack fail, one alone does not;
 * missing measurements skip. Counter volumes are random from a fixed seed. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "check_measured.h"

enum { STEPS = 10, NP = 3 };

static uint64_t rng = 0x7e57u;

static uint64_t next_u64(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct fixture {
    case_config cfg;
    rank_result run[NP];
    check_result c;
} fixture;

/* Every rank reports and measures the same random ZeRO-like traffic; its
 * process grows by exactly its (random) tracked peak. */
static void setup(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->cfg.steps = STEPS;
    uint64_t block = 1000 + next_u64() % 100000; /* elements of one shard */
    int64_t tracked = (int64_t)(1 + next_u64() % 500) << 20;
    for (int r = 0; r < NP; r++) {
        rank_result *x = &f->run[r];
        x->rank = r;
        x->world_size = NP;
        x->steps = STEPS;
        x->counters.calls[DTB_COLL_REDUCE_SCATTER] = 3 * STEPS;
        x->counters.bytes[DTB_COLL_REDUCE_SCATTER] = 3 * STEPS * 4 * NP * block;
        x->counters.calls[DTB_COLL_ALLGATHER] = STEPS;
        x->counters.bytes[DTB_COLL_ALLGATHER] = STEPS * 2 * NP * block;
        x->counters.calls[DTB_COLL_ALLREDUCE] = 2 * STEPS;
        x->counters.bytes[DTB_COLL_ALLREDUCE] = 2 * STEPS * 8;
        x->measured = x->counters;
        x->measured_valid = 1;
        x->mem_total_peak = tracked;
        x->rss_base = (int64_t)(50 + next_u64() % 50) << 20;
        x->rss_hwm = x->rss_base + tracked;
    }
}

static check_status run(fixture *f, int world)
{
    check_inputs in = {.cfg = &f->cfg, .world_size = world, .run1 = f->run};
    diag_free(&f->c.diag);
    memset(&f->c, 0, sizeof f->c);
    diag_init(&f->c.diag);
    check_measured(&in, &f->c);
    return f->c.status;
}

static const char *message(const fixture *f)
{
    return diag_get_text(&f->c.diag, "message");
}

static int rss_comparable(void)
{
    const char *why = NULL;
    return measured_rss_comparable(&why);
}

static void test_exact_passes(void)
{
    fixture f;
    setup(&f);
    CHECK(run(&f, NP) == CHECK_PASS);
    CHECK(message(&f) == NULL);
    /* the passing point carries the figures */
    CHECK_CONTAINS(diag_get_text(&f.c.diag, "reduce_scatter"), "reported 30 calls");
    CHECK(f.c.diag.n > 5);
    diag_free(&f.c.diag);
}

/* Rank 1 reports half its traffic: "reports 0.50x"; twice: "reports 2.00x". */
static void test_wrong_reports_fail(void)
{
    fixture f;
    setup(&f);
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++)
        f.run[1].counters.bytes[k] /= 2;
    CHECK(run(&f, NP) == CHECK_FAIL);
    CHECK_CONTAINS(message(&f), "rank 1 reports ");
    CHECK_CONTAINS(message(&f), " bus bytes per step, the worker measured ");
    CHECK_CONTAINS(message(&f), "(reports 0.50x)");
    double mea = measured_compared_bytes(&f.run[1].measured, NP) / STEPS;
    int found = 0;
    for (int i = 0; i < f.c.diag.n; i++)
        if (strcmp(f.c.diag.items[i].key, "measured_bus_bytes_per_step") == 0)
            found = f.c.diag.items[i].i == llround(mea);
    CHECK(found);
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++)
        f.run[1].counters.bytes[k] *= 4;
    CHECK(run(&f, NP) == CHECK_FAIL);
    CHECK_CONTAINS(message(&f), "(reports 2.00x)");
    diag_free(&f.c.diag);
}

/* An allreduce of S bytes built as a ring of sends: 2(N-1) chunks of S/N
 * sent, reported as one allreduce of S. Same bus bytes: passes. */
static void test_ring_reported_as_allreduce(void)
{
    fixture f;
    setup(&f);
    uint64_t chunk = 4 * (1 + next_u64() % 100000), S = NP * chunk;
    for (int r = 0; r < NP; r++) {
        rank_result *x = &f.run[r];
        memset(&x->counters, 0, sizeof x->counters);
        memset(&x->measured, 0, sizeof x->measured);
        x->counters.calls[DTB_COLL_ALLREDUCE] = STEPS;
        x->counters.bytes[DTB_COLL_ALLREDUCE] = STEPS * S;
        x->measured.calls[DTB_COLL_P2P] = STEPS * 2 * (NP - 1);
        x->measured.bytes[DTB_COLL_P2P] = STEPS * 2 * (NP - 1) * chunk;
    }
    CHECK(run(&f, NP) == CHECK_PASS);
    diag_free(&f.c.diag);
}

/* The tolerance: 1% of the larger plus 16 bytes per step. */
static void test_tolerance_edges(void)
{
    fixture f;
    setup(&f);
    double mea = measured_compared_bytes(&f.run[2].measured, NP);
    /* allreduce bytes carry factor 2(N-1)/N = 4/3 at N = 3: add d bus bytes
     * as 3d/4 allreduce bytes. */
    double tol = MEASURED_COMM_REL * mea + MEASURED_COMM_ABS_PER_STEP * STEPS;
    uint64_t inside = (uint64_t)floor(0.99 * tol * 0.75), outside = (uint64_t)ceil(1.05 * tol);
    f.run[2].measured.bytes[DTB_COLL_ALLREDUCE] += inside;
    CHECK(run(&f, NP) == CHECK_PASS);
    f.run[2].measured.bytes[DTB_COLL_ALLREDUCE] += outside;
    CHECK(run(&f, NP) == CHECK_FAIL);
    CHECK_CONTAINS(message(&f), "rank 2 reports");
    diag_free(&f.c.diag);
}

/* A world of one: bus factors would be 0; every byte counts as is. */
static void test_world_of_one(void)
{
    fixture f;
    setup(&f);
    memset(&f.run[0].counters, 0, sizeof f.run[0].counters);
    memset(&f.run[0].measured, 0, sizeof f.run[0].measured);
    CHECK(run(&f, 1) == CHECK_PASS);
    f.run[0].measured.calls[DTB_COLL_ALLREDUCE] = STEPS;
    f.run[0].measured.bytes[DTB_COLL_ALLREDUCE] = STEPS * 4 * (100 + next_u64() % 1000);
    CHECK(run(&f, 1) == CHECK_FAIL);
    CHECK_CONTAINS(message(&f), "rank 0 reports 0 bytes per step, the worker measured ");
    diag_free(&f.c.diag);
}

/* Memory: a rank over tracked + slack alone passes (the MPI library's
 * temporaries fall on some ranks only); every rank over fails; at the edge
 * passes. */
static void test_memory(void)
{
    fixture f;
    setup(&f);
    int64_t slack = measured_rss_slack(f.run[0].mem_total_peak);
    CHECK(slack == MEASURED_RSS_SLACK_ABS +
                       llround(MEASURED_RSS_SLACK_REL * (double)f.run[0].mem_total_peak));
    for (int r = 0; r < NP; r++)
        f.run[r].rss_hwm = f.run[r].rss_base + f.run[r].mem_total_peak + slack;
    CHECK(run(&f, NP) == CHECK_PASS);
    f.run[0].rss_hwm += 200ll << 20; /* a root's temporaries */
    f.run[2].rss_hwm += 1;
    CHECK(run(&f, NP) == CHECK_PASS);
    f.run[1].rss_hwm += 1; /* now every rank */
    if (rss_comparable()) {
        CHECK(run(&f, NP) == CHECK_FAIL);
        /* the rank judged is the one least over: 1 or 2 */
        CHECK_CONTAINS(message(&f), " MiB at peak, its process grew by ");
        CHECK_CONTAINS(message(&f), "every other rank grew more beyond its own");
        CHECK(strncmp(message(&f), "rank 1 tracks", 13) == 0 ||
              strncmp(message(&f), "rank 2 tracks", 13) == 0);
        /* a world of one: its only rank */
        CHECK(run(&f, 1) == CHECK_FAIL);
        CHECK_CONTAINS(message(&f), "rank 0 tracks ");
        /* a plugin that hides a 150 MB state on every rank and tracks the
         * rest (150 MB) fails */
        for (int r = 0; r < NP; r++) {
            f.run[r].mem_total_peak = 150ll << 20;
            f.run[r].rss_hwm = f.run[r].rss_base + (300ll << 20);
        }
        CHECK(run(&f, NP) == CHECK_FAIL);
        /* both halves failing: both in the message */
        f.run[0].counters.bytes[DTB_COLL_ALLGATHER] = 0;
        CHECK(run(&f, NP) == CHECK_FAIL);
        CHECK_CONTAINS(message(&f), "rank 0 reports");
        CHECK_CONTAINS(message(&f), "; rank ");
        f.run[0].counters = f.run[0].measured;
    } else {
        CHECK(run(&f, NP) == CHECK_PASS);
        CHECK(diag_get_text(&f.c.diag, "memory_not_compared") != NULL);
    }
    /* Tracked memory never made resident is no lie. */
    for (int r = 0; r < NP; r++) {
        f.run[r].mem_total_peak = 1ll << 30;
        f.run[r].rss_hwm = f.run[r].rss_base;
    }
    CHECK(run(&f, NP) == CHECK_PASS);
    diag_free(&f.c.diag);
}

/* Missing measurements: one half is not compared, both: skipped. */
static void test_unmeasured(void)
{
    fixture f;
    setup(&f);
    f.run[2].measured_valid = 0;
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++)
        f.run[2].counters.bytes[k] /= 2; /* would fail if compared */
    check_status s = run(&f, NP);
    CHECK(s == (rss_comparable() ? CHECK_PASS : CHECK_SKIP));
    CHECK_CONTAINS(diag_get_text(&f.c.diag, "communication_not_compared"), "rank 2");
    f.run[1].rss_hwm = -1;
    CHECK(run(&f, NP) == CHECK_SKIP);
    CHECK(f.c.skip_reason[0] != '\0');
    CHECK(diag_get_text(&f.c.diag, "memory_not_compared") != NULL);
    f.run[2].measured_valid = 1;
    CHECK(run(&f, NP) == CHECK_FAIL); /* communication compared again */
    CHECK(diag_get_text(&f.c.diag, "memory_not_compared") != NULL);
    check_measured(NULL, NULL); /* a full list: nothing to do */
    diag_free(&f.c.diag);
}

int main(void)
{
    test_exact_passes();
    test_wrong_reports_fail();
    test_ring_reported_as_allreduce();
    test_tolerance_edges();
    test_world_of_one();
    test_memory();
    test_unmeasured();
    return check_report("harness_unit_measured");
}
