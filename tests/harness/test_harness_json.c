/* json_lines.h: random nested documents (fixed seed) printed one field per
 * line exactly as specified, and malformed documents refused with the byte
 * where they go wrong and nothing printed. */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "json_lines.h"

static uint64_t rng_state = 20261205;

static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int below(int n)
{
    return (int)(next_u64() % (uint64_t)n);
}

/* A document under construction: its JSON text and the lines it must print. */
typedef struct doc {
    FILE *json, *want;
} doc;

/* A random string: its JSON literal, its text as a field value (control
 * characters escaped, "" when empty) and as an array element (quoted). */
static void random_string(doc *d, FILE *as_value, FILE *as_element)
{
    int n = below(4) == 0 ? 0 : 1 + below(12);
    char text[64];
    size_t len = 0;
    fputc('"', d->json);
    for (int i = 0; i < n; i++) {
        int kind = below(16);
        if (kind == 0) {
            fputs("\\n", d->json);
            text[len++] = '\n';
        } else if (kind == 1) {
            fputs("\\t", d->json);
            text[len++] = '\t';
        } else if (kind == 2) {
            fputs("\\\"", d->json);
            text[len++] = '"';
        } else if (kind == 3) {
            fputs("\\\\", d->json);
            text[len++] = '\\';
        } else if (kind == 4) { /* e acute, escaped in JSON, UTF-8 in the text */
            fputs("\\u00e9", d->json);
            text[len++] = (char)0xC3;
            text[len++] = (char)0xA9;
        } else if (kind == 5) {
            fputs("\\u0001", d->json);
            text[len++] = 1;
        } else {
            char c = "abcXYZ019 _-.:/"[below(15)];
            fputc(c, d->json);
            text[len++] = c;
        }
    }
    fputc('"', d->json);
    for (int quoted = 0; quoted < 2; quoted++) {
        FILE *f = quoted ? as_element : as_value;
        if (!f)
            continue;
        if (quoted || len == 0)
            fputc('"', f);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)text[i];
            if (c == '\n')
                fputs("\\n", f);
            else if (c == '\t')
                fputs("\\t", f);
            else if (c == 1)
                fputs("\\u0001", f);
            else if (quoted && (c == '"' || c == '\\'))
                fprintf(f, "\\%c", c);
            else
                fputc(c, f);
        }
        if (quoted || len == 0)
            fputc('"', f);
    }
}

/* A random scalar: into the JSON, and its printed form into out. */
static void random_scalar(doc *d, FILE *out, int quoted)
{
    switch (below(5)) {
    case 0: { /* an integer, any int64 or a large uint64: printed verbatim */
        char buf[32];
        if (below(4) == 0)
            snprintf(buf, sizeof buf, "%" PRIu64, next_u64() | ((uint64_t)1 << 63));
        else
            snprintf(buf, sizeof buf, "%" PRId64, (int64_t)next_u64() >> below(60));
        fputs(buf, d->json);
        fputs(buf, out);
        break;
    }
    case 1: { /* m * 10^e with m of p digits (no trailing zero): written as
               * %.17g, printed as the p digits %.*g gives (verbatim when %.17g
               * wrote an integer) */
        int p = 1 + below(15);
        int64_t m = 0;
        for (int i = 0; i < p; i++)
            m = m * 10 + (i == p - 1 ? 1 + below(9) : below(10));
        if (m < 1)
            m = 1;
        char digits[32];
        snprintf(digits, sizeof digits, "%" PRId64, m);
        p = (int)strlen(digits);
        char text[64];
        snprintf(text, sizeof text, "%s%se%d", below(2) ? "-" : "", digits, below(40) - 25);
        double v = strtod(text, NULL);
        char written[40];
        snprintf(written, sizeof written, "%.17g", v);
        fputs(written, d->json);
        if (strpbrk(written, ".e")) /* else JSON reads it as an integer: verbatim */
            fprintf(out, "%.*g", p, v);
        else
            fputs(written, out);
        break;
    }
    case 2:
        random_string(d, quoted ? NULL : out, quoted ? out : NULL);
        break;
    default: {
        const char *lit = below(3) == 0 ? "true" : below(2) ? "false" : "null";
        fputs(lit, d->json);
        fputs(lit, out);
    }
    }
}

static void random_object(doc *d, int depth, int indent);

/* A random value as the field `name` (its printed name) at indent; an object
 * or an array when `container` (what makes an array print element by
 * element: it holds one). */
static void random_field(doc *d, const char *name, int depth, int indent, int container)
{
    int kind = container ? (depth >= 4 ? 3 : 3 + below(3)) : depth >= 4 ? 0 : below(6);
    fprintf(d->want, "%*s%s:", indent, "", name);
    if (kind <= 2) {
        fputc(' ', d->want);
        random_scalar(d, d->want, 0);
        fputc('\n', d->want);
    } else if (kind == 3) {
        random_object(d, depth + 1, indent + 2);
    } else { /* an array: of scalars (inline), or holding containers */
        int n = below(4), nested = kind == 5 && n > 0;
        fputc('[', d->json);
        if (n == 0)
            fputs(" []\n", d->want);
        else if (!nested)
            fputs(" [", d->want);
        else
            fputc('\n', d->want);
        for (int i = 0; i < n; i++) {
            if (i)
                fputc(',', d->json);
            if (!nested) {
                fputs(i ? ", " : "", d->want);
                random_scalar(d, d->want, 1);
            } else {
                char idx[16];
                snprintf(idx, sizeof idx, "[%d]", i);
                random_field(d, idx, depth + 1, indent + 2, i == 0);
            }
        }
        if (n > 0 && !nested)
            fputs("]\n", d->want);
        fputc(']', d->json);
    }
}

/* An object's members; the caller wrote "name:" (or nothing at the top). */
static void random_object(doc *d, int depth, int indent)
{
    int n = depth == 0 ? 1 + below(8) : below(5);
    fputc('{', d->json);
    if (depth > 0)
        fputs(n ? "\n" : " {}\n", d->want);
    for (int i = 0; i < n; i++) {
        char name[24];
        snprintf(name, sizeof name, "k%d_%d", depth, 1000 * i + below(1000)); /* distinct */
        fprintf(d->json, "%s \"%s\" : ", i ? "," : "", name);
        random_field(d, name, depth, indent, 0);
    }
    fputc('}', d->json);
}

static void test_random_documents(void)
{
    for (int t = 0; t < 500; t++) {
        char *json = NULL, *want = NULL, *got = NULL;
        size_t jl = 0, wl = 0, gl = 0;
        doc d = {open_memstream(&json, &jl), open_memstream(&want, &wl)};
        CHECK(d.json && d.want);
        if (!d.json || !d.want)
            return;
        random_object(&d, 0, 2);
        fclose(d.json);
        fclose(d.want);
        FILE *out = open_memstream(&got, &gl);
        char err[256] = "";
        CHECK(out != NULL);
        if (!out)
            return;
        int rc = json_lines_print(json, 2, out, err, sizeof err);
        fclose(out);
        CHECK(rc == 0);
        if (rc != 0 || strcmp(got, want) != 0) {
            fprintf(stderr, "document %d: %s\n%s\nwant:\n%s\ngot:\n%s\n", t, err, json, want,
                    got);
            check_failures++;
            t = 500; /* one report is enough */
        }
        free(json);
        free(want);
        free(got);
    }
}

/* Refused, nothing printed, and the message names the place. */
static void refused(const char *json, const char *want)
{
    char *got = NULL, err[256] = "";
    size_t gl = 0;
    FILE *out = open_memstream(&got, &gl);
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK(json_lines_print(json, 0, out, err, sizeof err) != 0);
    fclose(out);
    CHECK(gl == 0);
    CHECK_CONTAINS(err, want);
    free(got);
}

static void test_malformed(void)
{
    refused("", "the top level is not an object");
    refused("[1, 2]", "the top level is not an object");
    refused("{", "not valid JSON at byte 1: expected a member name");
    refused("{\"a\" 1}", "not valid JSON at byte 5: expected ':'");
    refused("{\"a\":}", "not valid JSON at byte 5: expected a value");
    refused("{\"a\":1,}", "not valid JSON at byte 7: expected a member name");
    refused("{\"a\":01}", "not valid JSON at byte 6: expected ',' or '}'");
    refused("{\"a\":1.}", "expected digits after '.'");
    refused("{\"a\":1e}", "expected digits in the exponent");
    refused("{\"a\":1} x", "not valid JSON at byte 8: text after the value");
    refused("{\"a\":\"\\x\"}", "bad escape in a string");
    refused("{\"a\":\"\\u12\"}", "bad \\u escape");
    refused("{\"a\":\"x\ny\"}", "control character in a string");
    refused("{\"a\":\"abc}", "unterminated string");
    refused("{\"a\":[1 2]}", "expected ',' or ']'");
    refused("{\"a\":tru}", "expected a value");
    char deep[2 * JSON_LINES_DEPTH + 16];
    size_t k = 0;
    deep[k++] = '{';
    deep[k++] = '"';
    deep[k++] = 'a';
    deep[k++] = '"';
    deep[k++] = ':';
    for (int i = 0; i < JSON_LINES_DEPTH; i++)
        deep[k++] = '[';
    deep[k] = '\0';
    refused(deep, "nested too deeply");
}

/* What a recorded case's configuration looks like (record/case_record.c). */
static void test_case_config(void)
{
    const char *json =
        "{\"suite\":\"ddp\",\"model\":\"mlp-odd\",\"world_size\":2,\"optimizer\":{\"name\":"
        "\"sgd\",\"lr\":0.050000000000000003,\"eps\":1e-08},\"seed\":18446744073709551615,"
        "\"empty\":{},\"none\":[],\"label\":\"\",\"check_steps\":[1,10]}";
    const char *want = "  suite: ddp\n"
                       "  model: mlp-odd\n"
                       "  world_size: 2\n"
                       "  optimizer:\n"
                       "    name: sgd\n"
                       "    lr: 0.05\n"
                       "    eps: 1e-08\n"
                       "  seed: 18446744073709551615\n"
                       "  empty: {}\n"
                       "  none: []\n"
                       "  label: \"\"\n"
                       "  check_steps: [1, 10]\n";
    char *got = NULL, err[256];
    size_t gl = 0;
    FILE *out = open_memstream(&got, &gl);
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK(json_lines_print(json, 2, out, err, sizeof err) == 0);
    fclose(out);
    CHECK(strcmp(got, want) == 0);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "got:\n%s", got);
    free(got);
}

int main(void)
{
    test_case_config();
    test_random_documents();
    test_malformed();
    return check_report("test_harness_json");
}
