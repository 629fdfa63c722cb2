/* tap.h: the exact text of a TAP 13 stream with passes, a skip, a failure
 * with YAML diagnostics (quoting, non-finite numbers, a literal block with
 * blank lines and a "..." line), a '#' in a description, and text no YAML
 * reader accepts raw (invalid UTF-8, controls) escaped. Writes the
 * stream to argv[1] too, for the prove test. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "tap.h"

static void write_stream(FILE *f)
{
    tap_writer w;
    tap_begin(&w, f);
    tap_point(&w, 1, "ref-ddp mlp-odd sgd np=2 mb=2: completed", NULL, NULL);
    tap_diag d;
    diag_init(&d);
    diag_text(&d, "message", "loss differs \"quoted\" \\ back\nslash\ttab");
    diag_text(&d, "tensor", "W1");
    diag_int(&d, "first_bad_step", 3);
    diag_real(&d, "max_abs_error", 1.5e-5);
    diag_real(&d, "ratio", INFINITY);
    diag_real(&d, "nan", NAN);
    diag_block(&d, "log_tail", "line one: a colon\n\n  indented\n...\n\tTabbed\nlast");
    tap_point(&w, 0, "case #3: loss every step", NULL, &d);
    diag_free(&d);
    tap_point(&w, 0, "grad norm every step", "plugin reports no norms", NULL);
    /* What a hostile plugin can put in its name, messages and log: invalid
     * UTF-8 (a stray byte, a truncated and an overlong sequence, a
     * surrogate), a C1 control, an escape sequence, a NUL-free bell; valid
     * UTF-8 passes through. */
    diag_init(&d);
    diag_text(&d, "message", "bad \xff\xfe, cut \xc3, overlong \xc0\xaf, "
                             "surrogate \xed\xa0\x80, C1 \xc2\x85, esc \x1b[31m, "
                             "ok \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    diag_block(&d, "log_tail", "bell \x07 \xff\xc3\xa9 \xe2\x82");
    tap_point(&w, 0, "zoo-\xff\x1b[2J \xc3\xa9: completed", NULL, &d);
    diag_free(&d);
    tap_end(&w);
}

static const char *expected =
    "TAP version 13\n"
    "ok 1 - ref-ddp mlp-odd sgd np=2 mb=2: completed\n"
    "not ok 2 - case no.3: loss every step\n"
    "  ---\n"
    "  message: \"loss differs \\\"quoted\\\" \\\\ back\\nslash\\ttab\"\n"
    "  tensor: \"W1\"\n"
    "  first_bad_step: 3\n"
    "  max_abs_error: 1.5e-05\n"
    "  ratio: .inf\n"
    "  nan: .nan\n"
    "  log_tail: |\n"
    "    line one: a colon\n"
    "      indented\n"
    "    (...)\n"
    "     Tabbed\n"
    "    last\n"
    "  ...\n"
    "ok 3 - grad norm every step # SKIP plugin reports no norms\n"
    "not ok 4 - zoo-??[2J \xc3\xa9: completed\n"
    "  ---\n"
    "  message: \"bad \\xff\\xfe, cut \\xc3, overlong \\xc0\\xaf, surrogate \\xed\\xa0\\x80, "
    "C1 \\xc2\\x85, esc \\x1b[31m, ok \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"\n"
    "  log_tail: |\n"
    "    bell ? ?\xc3\xa9 ??\n"
    "  ...\n"
    "1..4\n";

int main(int argc, char **argv)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    CHECK(mem != NULL);
    if (mem) {
        write_stream(mem);
        fclose(mem);
        CHECK(strcmp(buf, expected) == 0);
        if (strcmp(buf, expected) != 0)
            fprintf(stderr, "got:\n%s", buf);
        free(buf);
    }
    if (argc > 1) {
        FILE *f = fopen(argv[1], "w");
        CHECK(f != NULL);
        if (f) {
            write_stream(f);
            CHECK(fclose(f) == 0);
        }
    }
    return check_report("test_harness_tap");
}
