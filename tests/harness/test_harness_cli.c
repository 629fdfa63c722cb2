/* cli.h: strict integers, numbers, rank-count lists and long options. */
#include <stdint.h>

#include "check.h"
#include "cli_parse.h"

static void test_integers(void)
{
    char err[256];
    int64_t v = 0;
    uint64_t u = 0;
    CHECK(cli_parse_i64("--steps", "10", 1, 100, &v, err, sizeof err) == 0 && v == 10);
    CHECK(cli_parse_i64("--x", "-5", -10, 10, &v, err, sizeof err) == 0 && v == -5);
    CHECK(cli_parse_i64("--steps", "0", 1, 100, &v, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--steps: 0 is out of range (1..100)");
    CHECK(cli_parse_i64("--steps", "1x", 1, 100, &v, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--steps: '1x' is not an integer");
    CHECK(cli_parse_i64("--steps", " 1", 1, 100, &v, err, sizeof err) != 0);
    CHECK(cli_parse_i64("--steps", "", 1, 100, &v, err, sizeof err) != 0);
    CHECK(cli_parse_i64("--steps", "-", 1, 100, &v, err, sizeof err) != 0);
    CHECK(cli_parse_i64("--steps", "99999999999999999999", 1, INT64_MAX, &v, err, sizeof err));
    CHECK(cli_parse_u64("--seed", "18446744073709551615", &u, err, sizeof err) == 0 &&
          u == UINT64_MAX);
    CHECK(cli_parse_u64("--seed", "18446744073709551616", &u, err, sizeof err) != 0);
    CHECK(cli_parse_u64("--seed", "-1", &u, err, sizeof err) != 0);
}

static void test_doubles(void)
{
    char err[256];
    double d = 0;
    CHECK(cli_parse_double("--timeout", "2.5", 0, 10, &d, err, sizeof err) == 0 && d == 2.5);
    CHECK(cli_parse_double("--lr", "1e-2", 0, 1, &d, err, sizeof err) == 0 && d == 1e-2);
    CHECK(cli_parse_double("--lr", ".5", 0, 1, &d, err, sizeof err) == 0 && d == 0.5);
    CHECK(cli_parse_double("--lr", "3", 0, 1, &d, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "out of range");
    const char *bad[] = {"", ".", "nan", "inf", "0x10", "1e", "1.2.3", " 1", "1 ", "e5", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(cli_parse_double("--lr", bad[i], -1e9, 1e9, &d, err, sizeof err) != 0);
        CHECK_CONTAINS(err, "is not a number");
    }
}

static void test_np_lists(void)
{
    char err[256];
    int np[DTB_NP_LIST_MAX], n = 0;
    CHECK(cli_parse_np_list("--np", "1,2,4", np, DTB_NP_LIST_MAX, &n, err, sizeof err) == 0);
    CHECK(n == 3 && np[0] == 1 && np[1] == 2 && np[2] == 4);
    CHECK(cli_parse_np_list("--np", "1-4", np, DTB_NP_LIST_MAX, &n, err, sizeof err) == 0);
    CHECK(n == 4 && np[0] == 1 && np[3] == 4);
    CHECK(cli_parse_np_list("--np", "3,1-3,64", np, DTB_NP_LIST_MAX, &n, err, sizeof err) == 0);
    CHECK(n == 4 && np[0] == 3 && np[1] == 1 && np[2] == 2 && np[3] == 64);
    const char *bad[] = {"0", "2,x", "-1", "", ",", "1,", "4-2", "65", "1-65", "1--2", "a-b",
                         "100", " 1", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(cli_parse_np_list("--np", bad[i], np, DTB_NP_LIST_MAX, &n, err, sizeof err) != 0);
        CHECK_CONTAINS(err, "is not a list of rank counts (1..64)");
    }
    CHECK(cli_parse_np_list("--np", "2,x", np, DTB_NP_LIST_MAX, &n, err, sizeof err) != 0);
    CHECK(strcmp(err, "--np: '2,x' is not a list of rank counts (1..64)") == 0);
    int64_t steps[4];
    CHECK(cli_parse_i64_list("--check-steps", "1,10", 1, 10, steps, 4, &n, err, sizeof err) == 0);
    CHECK(n == 2 && steps[0] == 1 && steps[1] == 10);
    CHECK(cli_parse_i64_list("--check-steps", "1,11", 1, 10, steps, 4, &n, err, sizeof err));
    CHECK(cli_parse_i64_list("--check-steps", "1,,2", 1, 10, steps, 4, &n, err, sizeof err));
}

static void test_options(void)
{
    char err[256];
    const char *suite = NULL, *np = NULL;
    int keep = 0;
    const cli_option opts[] = {{"suite", &suite, NULL}, {"np", &np, NULL}, {"keep", NULL, &keep}};
    char *argv1[] = {"--suite", "ddp", "--np=1,2", "--keep"};
    CHECK(cli_parse_options("run", 4, argv1, opts, 3, err, sizeof err) == 0);
    CHECK(suite && strcmp(suite, "ddp") == 0 && np && strcmp(np, "1,2") == 0 && keep == 1);
    char *argv2[] = {"--bogus"};
    CHECK(cli_parse_options("run", 1, argv2, opts, 3, err, sizeof err) != 0);
    CHECK(strcmp(err, "run: unknown option '--bogus' (see dtbench run --help)") == 0);
    char *argv3[] = {"--suite"};
    CHECK(cli_parse_options("run", 1, argv3, opts, 3, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--suite needs a value");
    char *argv4[] = {"positional"};
    CHECK(cli_parse_options("run", 1, argv4, opts, 3, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "unexpected argument 'positional'");
    char *argv5[] = {"--keep=1"};
    CHECK(cli_parse_options("run", 1, argv5, opts, 3, err, sizeof err) != 0);
    char *argv6[] = {"--suite="};
    CHECK(cli_parse_options("run", 1, argv6, opts, 3, err, sizeof err) != 0);
    /* A repeated option is refused whatever the forms and values. */
    char *argv7[] = {"--suite", "nosuch", "--suite", "ddp"};
    CHECK(cli_parse_options("run", 4, argv7, opts, 3, err, sizeof err) != 0);
    CHECK(strcmp(err, "run: --suite is given twice (give it once)") == 0);
    char *argv8[] = {"--np=1", "--suite", "ddp", "--np", "1"};
    CHECK(cli_parse_options("run", 5, argv8, opts, 3, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--np is given twice");
    char *argv9[] = {"--keep", "--keep"};
    CHECK(cli_parse_options("run", 2, argv9, opts, 3, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "--keep is given twice");
}

int main(void)
{
    test_integers();
    test_doubles();
    test_np_lists();
    test_options();
    return check_report("test_harness_cli");
}
