/*
 * `dtbench report`: the document, as Markdown (tables in GitHub's pipe
 * syntax, images as relative links) or as one self-contained HTML page
 * (inline style, <img> links to the SVGs next to it). It is built in memory
 * and written in one go at the end, under a temporary name then renamed, so
 * a failed report never leaves a half-written report file.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

static void put_html(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\n': fputc(' ', f); break;
        default: fputc(*s, f);
        }
    }
}

/* Markdown: a table cell keeps its column ('|' escaped), any text stays on
 * its line. */
static void put_md(FILE *f, const char *s, int cell)
{
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else if (cell && *s == '|')
            fputs("\\|", f);
        else
            fputc(*s, f);
    }
}

int report_doc_open(report_doc *doc, report_format format, const char *title, char *err,
                    size_t err_len)
{
    memset(doc, 0, sizeof *doc);
    doc->format = format;
    doc->f = open_memstream(&doc->buf, &doc->len);
    if (!doc->f) {
        snprintf(err, err_len, "report: out of memory");
        return -1;
    }
    if (format == REPORT_HTML) {
        fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
              doc->f);
        put_html(doc->f, title);
        fputs("</title>\n<style>\n"
              "body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; "
              "padding: 0 1em; color: #222; }\n"
              "table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }\n"
              "th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }\n"
              "th { background: #f3f3f3; }\n"
              "td.r { text-align: right; font-variant-numeric: tabular-nums; }\n"
              "img { max-width: 100%; }\n"
              "figure { margin: 1em 0; }\n"
              "</style>\n</head>\n<body>\n",
              doc->f);
    }
    report_doc_heading(doc, 1, title);
    return 0;
}

void report_doc_heading(report_doc *doc, int level, const char *text)
{
    if (doc->format == REPORT_HTML) {
        fprintf(doc->f, "<h%d>", level);
        put_html(doc->f, text);
        fprintf(doc->f, "</h%d>\n", level);
    } else {
        for (int i = 0; i < level; i++)
            fputc('#', doc->f);
        fputc(' ', doc->f);
        put_md(doc->f, text, 0);
        fputs("\n\n", doc->f);
    }
}

void report_doc_para(report_doc *doc, const char *text)
{
    if (doc->format == REPORT_HTML) {
        fputs("<p>", doc->f);
        put_html(doc->f, text);
        fputs("</p>\n", doc->f);
    } else {
        put_md(doc->f, text, 0);
        fputs("\n\n", doc->f);
    }
}

void report_doc_table(report_doc *doc, int n_cols, const char *const *headers,
                      const char *align)
{
    doc->table_cols = n_cols;
    snprintf(doc->align, sizeof doc->align, "%s", align);
    if (doc->format == REPORT_HTML) {
        fputs("<table>\n<thead><tr>", doc->f);
        for (int i = 0; i < n_cols; i++) {
            fputs("<th>", doc->f);
            put_html(doc->f, headers[i]);
            fputs("</th>", doc->f);
        }
        fputs("</tr></thead>\n<tbody>\n", doc->f);
        return;
    }
    fputc('|', doc->f);
    for (int i = 0; i < n_cols; i++) {
        fputc(' ', doc->f);
        put_md(doc->f, headers[i], 1);
        fputs(" |", doc->f);
    }
    fputs("\n|", doc->f);
    for (int i = 0; i < n_cols; i++)
        fputs(i < (int)strlen(align) && align[i] == 'r' ? " ---: |" : " --- |", doc->f);
    fputc('\n', doc->f);
}

void report_doc_row(report_doc *doc, const char *const *cells)
{
    if (doc->format == REPORT_HTML) {
        fputs("<tr>", doc->f);
        for (int i = 0; i < doc->table_cols; i++) {
            int right = i < (int)strlen(doc->align) && doc->align[i] == 'r';
            fputs(right ? "<td class=\"r\">" : "<td>", doc->f);
            put_html(doc->f, cells[i]);
            fputs("</td>", doc->f);
        }
        fputs("</tr>\n", doc->f);
        return;
    }
    fputc('|', doc->f);
    for (int i = 0; i < doc->table_cols; i++) {
        fputc(' ', doc->f);
        put_md(doc->f, cells[i], 1);
        fputs(" |", doc->f);
    }
    fputc('\n', doc->f);
}

void report_doc_table_end(report_doc *doc)
{
    fputs(doc->format == REPORT_HTML ? "</tbody>\n</table>\n" : "\n", doc->f);
    doc->table_cols = 0;
}

void report_doc_image(report_doc *doc, const char *alt, const char *file)
{
    if (doc->format == REPORT_HTML) {
        fputs("<figure><img src=\"", doc->f);
        put_html(doc->f, file);
        fputs("\" alt=\"", doc->f);
        put_html(doc->f, alt);
        fputs("\"><figcaption>", doc->f);
        put_html(doc->f, alt);
        fputs("</figcaption></figure>\n", doc->f);
    } else {
        fputs("![", doc->f);
        for (const char *s = alt; *s; s++) {
            if (*s == '[' || *s == ']' || *s == '\\')
                fputc('\\', doc->f);
            fputc(*s == '\n' ? ' ' : *s, doc->f);
        }
        fprintf(doc->f, "](%s)\n\n", file); /* file names are sanitised: no spaces or ')' */
    }
}

void report_doc_list_item(report_doc *doc, const char *text)
{
    if (doc->format == REPORT_HTML) {
        if (!doc->in_list)
            fputs("<ul>\n", doc->f);
        fputs("<li>", doc->f);
        put_html(doc->f, text);
        fputs("</li>\n", doc->f);
    } else {
        fputs("- ", doc->f);
        put_md(doc->f, text, 0);
        fputc('\n', doc->f);
    }
    doc->in_list = 1;
}

void report_doc_list_end(report_doc *doc)
{
    if (doc->in_list)
        fputs(doc->format == REPORT_HTML ? "</ul>\n" : "\n", doc->f);
    doc->in_list = 0;
}

void report_doc_discard(report_doc *doc)
{
    if (doc->f)
        fclose(doc->f);
    free(doc->buf);
    memset(doc, 0, sizeof *doc);
}

int report_doc_save(report_doc *doc, const char *path, char *err, size_t err_len)
{
    if (doc->format == REPORT_HTML)
        fputs("</body>\n</html>\n", doc->f);
    int bad = ferror(doc->f);
    if (fclose(doc->f) != 0 || bad || !doc->buf) {
        doc->f = NULL;
        report_doc_discard(doc);
        snprintf(err, err_len, "report: out of memory building the report");
        return -1;
    }
    doc->f = NULL;
    char tmp[4400];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, err_len, "report: cannot write %s: %s", tmp, strerror(errno));
        report_doc_discard(doc);
        return -1;
    }
    size_t put = fwrite(doc->buf, 1, doc->len, f);
    bad = ferror(f);
    if (fclose(f) != 0 || bad || put != doc->len || rename(tmp, path) != 0) {
        snprintf(err, err_len, "report: cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        report_doc_discard(doc);
        return -1;
    }
    report_doc_discard(doc);
    return 0;
}

/* ---- numbers ----------------------------------------------------------------------- */

void report_fmt_sig(double v, char *buf, size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "-");
        return;
    }
    double a = fabs(v);
    if (a == 0) {
        snprintf(buf, len, "0");
        return;
    }
    if (a < 1e-3 || a >= 1e7) {
        snprintf(buf, len, "%.3e", v);
        return;
    }
    int decimals = 3 - (int)floor(log10(a));
    if (decimals < 0)
        decimals = 0;
    snprintf(buf, len, "%.*f", decimals, v);
}

void report_fmt_bytes(double bytes, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (isnan(bytes)) {
        snprintf(buf, len, "-");
        return;
    }
    int u = 0;
    double v = bytes;
    while (fabs(v) >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    char num[48];
    report_fmt_sig(v, num, sizeof num);
    snprintf(buf, len, "%s %s", num, units[u]);
}

const char *report_time_unit(double scale, double *factor)
{
    if (!(scale < 1.0) || isnan(scale)) {
        *factor = 1.0;
        return "s";
    }
    if (scale >= 1e-3) {
        *factor = 1e3;
        return "ms";
    }
    *factor = 1e6;
    return "us";
}
