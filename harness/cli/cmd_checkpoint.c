/*
 * `dtbench checkpoint`: is a canonical checkpoint (docs/checkpoint.md) whole
 * and what does it hold. Verifies the manifest, every array file's size,
 * .npy header and sha256 (ckpt_open, the check a resumed world makes), and
 * prints what it holds; --latest names the newest committed checkpoint under
 * a root, verified, for a restart script.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "case_config.h"
#include "checkpoint_files.h"
#include "cli_parse.h"
#include "commands.h"

void usage_checkpoint(FILE *f)
{
    fprintf(f, "usage: dtbench checkpoint DIR [DIR...]\n"
               "       dtbench checkpoint --latest ROOT\n"
               "\n"
               "Verifies canonical checkpoints (docs/checkpoint.md): manifest.json, every\n"
               "array file's size, .npy header and sha256, as a resumed world does before\n"
               "its plugin reads a value, and says what each holds (step, model, recipe,\n"
               "who wrote it, the arrays). --latest ROOT verifies the newest committed\n"
               "checkpoint under ROOT (directories step-<S>; a staging directory a\n"
               "crash left never counts) and prints its path last.\n"
               "Exit status: 0 every checkpoint verified, 1 one is torn, modified or\n"
               "incomplete (its line says what), 2 bad input (no such directory).\n");
}

static void describe(const ckpt_reader *r, FILE *f)
{
    const ckpt_meta *m = &r->meta;
    fprintf(f, "checkpoint %s: verified\n", r->dir);
    fprintf(f, "  step          %lld\n", (long long)m->step);
    fprintf(f, "  model         %s, %lld parameters in %d tensors\n", m->model,
            (long long)m->n_params, (int)m->n_tensors);
    fprintf(f, "  recipe        %s lr %g, %s, clip %g, batch %lld in %d micro-batches, seed %llu\n",
            optimizer_kind_name(m->optimizer), m->lr, precision_name(m->precision), m->clip_norm,
            (long long)m->global_batch, (int)m->micro_batches, (unsigned long long)m->seed);
    fprintf(f, "  written by    %s (%s) at %d rank(s)\n", m->writer_impl[0] ? m->writer_impl : "?",
            stage_name(m->writer_stage), (int)m->writer_world);
    int32_t arrays[DTB_CKPT_ARRAY_COUNT];
    const int n = ckpt_arrays_of(m->optimizer, arrays);
    fprintf(f, "  arrays       ");
    for (int a = 0; a < n; a++)
        fprintf(f, " %s.npy", ckpt_array_name(arrays[a]));
    fputc('\n', f);
}

/* 0 verified, 1 refused (the line on stderr), 2 not a directory. */
static int verify_one(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "dtbench: checkpoint: %s: %s\n", dir, strerror(errno));
        return EXIT_BAD_INPUT;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "dtbench: checkpoint: %s is not a directory\n", dir);
        return EXIT_BAD_INPUT;
    }
    ckpt_reader r;
    char err[PATH_MAX + 512];
    if (ckpt_open(&r, dir, err, sizeof err) != 0) {
        fprintf(stderr, "dtbench: %s\n", err);
        return EXIT_CHECKS_FAILED;
    }
    describe(&r, stdout);
    ckpt_close(&r);
    return 0;
}

int cmd_checkpoint(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "dtbench: checkpoint: name a checkpoint directory (dtbench checkpoint "
                        "--help)\n");
        return EXIT_BAD_INPUT;
    }
    if (strcmp(argv[0], "--help") == 0) {
        usage_checkpoint(stdout);
        return 0;
    }
    if (strcmp(argv[0], "--latest") == 0) {
        if (argc != 2) {
            fprintf(stderr, "dtbench: checkpoint: --latest takes one root directory\n");
            return EXIT_BAD_INPUT;
        }
        char dir[PATH_MAX], err[PATH_MAX + 512];
        int64_t step = 0;
        const int found = ckpt_latest(argv[1], &step, dir, sizeof dir, err, sizeof err);
        if (found != 0) {
            if (found > 0)
                fprintf(stderr, "dtbench: checkpoint: no committed checkpoint under %s\n",
                        argv[1]);
            else
                fprintf(stderr, "dtbench: checkpoint: %s\n", err);
            return found > 0 ? EXIT_CHECKS_FAILED : EXIT_BAD_INPUT;
        }
        const int rc = verify_one(dir);
        if (rc == 0)
            printf("%s\n", dir);
        return rc;
    }
    int worst = 0;
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-') {
            fprintf(stderr, "dtbench: checkpoint: unknown option '%s' (dtbench checkpoint "
                            "--help)\n", argv[i]);
            return EXIT_BAD_INPUT;
        }
    }
    for (int i = 0; i < argc; i++) {
        const int rc = verify_one(argv[i]);
        worst = rc > worst ? rc : worst;
    }
    return worst;
}
