/*
 * `dtbench report`: plots. Each plot becomes <name>.dat (one block of
 * "x y [ylo yhi]" rows per series, blocks separated by two blank lines, read
 * with gnuplot's `index`) and a section of report.gp; gnuplot runs in the
 * output directory with the svg terminal and writes <name>.svg.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

#define REPORT_SCRIPT "report.gp"
#define REPORT_GNUPLOT_LOG "gnuplot.log"

/* Colours by index: ddp, zero1, zero2, zero3 keep theirs in every plot. */
static const char *const PALETTE[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define PALETTE_SIZE ((int)(sizeof PALETTE / sizeof PALETTE[0]))

static void sanitise(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++) {
        char ch = src[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '_' || ch == '-';
        dst[i] = ok ? ch : '_';
    }
    dst[i] = '\0';
}

report_plot *report_plot_add(report_plots *plots, const char *name, const char *title,
                             const char *xlabel, const char *ylabel)
{
    if (plots->n == plots->cap) {
        int cap = plots->cap ? 2 * plots->cap : 8;
        report_plot *g = realloc(plots->items, (size_t)cap * sizeof *g);
        if (!g)
            return NULL;
        plots->items = g;
        plots->cap = cap;
    }
    report_plot *p = &plots->items[plots->n++];
    memset(p, 0, sizeof *p);
    sanitise(p->name, sizeof p->name, name);
    snprintf(p->title, sizeof p->title, "%s", title);
    snprintf(p->xlabel, sizeof p->xlabel, "%s", xlabel);
    snprintf(p->ylabel, sizeof p->ylabel, "%s", ylabel);
    return p;
}

report_series *report_plot_series(report_plot *p, const char *title, report_style style,
                                  int color)
{
    for (int i = 0; i < p->n_series; i++)
        if (strcmp(p->series[i].title, title) == 0)
            return &p->series[i];
    if (p->n_series == p->cap_series) {
        int cap = p->cap_series ? 2 * p->cap_series : 8;
        report_series *g = realloc(p->series, (size_t)cap * sizeof *g);
        if (!g)
            return NULL;
        p->series = g;
        p->cap_series = cap;
    }
    report_series *s = &p->series[p->n_series++];
    memset(s, 0, sizeof *s);
    snprintf(s->title, sizeof s->title, "%s", title);
    s->style = style;
    s->color = color;
    return s;
}

int report_series_point(report_series *s, double x, double y, double ylo, double yhi)
{
    if (!isfinite(x) || !isfinite(y))
        return 0; /* nothing to draw */
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        double *v[4] = {s->x, s->y, s->ylo, s->yhi};
        for (int k = 0; k < 4; k++) {
            double *g = realloc(v[k], (size_t)cap * sizeof *g);
            if (!g) {
                s->x = v[0], s->y = v[1], s->ylo = v[2], s->yhi = v[3];
                return -1;
            }
            v[k] = g;
        }
        s->x = v[0], s->y = v[1], s->ylo = v[2], s->yhi = v[3];
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->ylo[s->n] = isfinite(ylo) ? ylo : y;
    s->yhi[s->n] = isfinite(yhi) ? yhi : y;
    s->n++;
    return 0;
}

int report_plot_points(const report_plot *p)
{
    int n = 0;
    for (int i = 0; i < p->n_series; i++)
        n += p->series[i].n;
    return n;
}

void report_plots_free(report_plots *plots)
{
    for (int i = 0; i < plots->n; i++) {
        report_plot *p = &plots->items[i];
        for (int j = 0; j < p->n_series; j++) {
            free(p->series[j].x);
            free(p->series[j].y);
            free(p->series[j].ylo);
            free(p->series[j].yhi);
        }
        free(p->series);
    }
    free(plots->items);
    memset(plots, 0, sizeof *plots);
}

int report_find_gnuplot(char *path, size_t path_len, char *err, size_t err_len)
{
    const char *env = getenv("PATH");
    const char *p = env ? env : "";
    while (env) {
        size_t n = strcspn(p, ":");
        int w = snprintf(path, path_len, "%.*s%sgnuplot", (int)n, n ? p : "", n ? "/" : "./");
        struct stat st;
        if (w > 0 && (size_t)w < path_len && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            access(path, X_OK) == 0)
            return 0;
        if (!p[n])
            break;
        p += n + 1;
    }
    snprintf(err, err_len, "report: gnuplot not found on PATH; it draws the plots (install "
                           "it: apt-get install gnuplot-nox)");
    return -1;
}

/* A gnuplot single-quoted string: '' is a quote; control characters become
 * spaces. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("''", f);
        else
            fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
    }
    fputc('\'', f);
}

static int by_x(const void *a, const void *b, const double *x)
{
    double xa = x[*(const int *)a], xb = x[*(const int *)b];
    return xa < xb ? -1 : xa > xb;
}

/* Indices of s's points in increasing x (stable: insertion sort, the
 * series are short). */
static int *sorted_order(const report_series *s)
{
    int *idx = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *idx);
    if (!idx)
        return NULL;
    for (int i = 0; i < s->n; i++) {
        int j = i;
        idx[i] = i;
        while (j > 0 && by_x(&idx[j - 1], &i, s->x) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    return idx;
}

static int write_data(const report_plot *p, const char *dir, char *err, size_t err_len)
{
    char path[4352];
    snprintf(path, sizeof path, "%s/%s.dat", dir, p->name);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, err_len, "report: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# %s\n# x y ylo yhi, one block per series (gnuplot index)\n", p->title);
    int block = 0, oom = 0;
    for (int i = 0; i < p->n_series; i++) {
        const report_series *s = &p->series[i];
        if (s->n == 0)
            continue;
        int *idx = sorted_order(s);
        if (!idx) {
            oom = 1;
            break;
        }
        fprintf(f, "%s# index %d: %s\n", block ? "\n\n" : "", block, s->title);
        for (int k = 0; k < s->n; k++) {
            int j = idx[k];
            fprintf(f, "%.17g %.17g %.17g %.17g\n", s->x[j], s->y[j], s->ylo[j], s->yhi[j]);
        }
        free(idx);
        block++;
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || oom) {
        snprintf(err, err_len, "report: %s %s", oom ? "out of memory writing" : "cannot write",
                 path);
        return -1;
    }
    return 0;
}

/* Explicit tics at the plot's distinct x values (world sizes). */
static void integer_tics(FILE *f, const report_plot *p)
{
    double seen[32];
    int n = 0;
    for (int i = 0; i < p->n_series; i++)
        for (int k = 0; k < p->series[i].n && n < 32; k++) {
            double x = p->series[i].x[k];
            int dup = 0;
            for (int j = 0; j < n; j++)
                dup |= seen[j] == x;
            if (!dup)
                seen[n++] = x;
        }
    fputs("set xtics (", f);
    for (int j = 0; j < n; j++)
        fprintf(f, "%s%.17g", j ? ", " : "", seen[j]);
    fputs(")\n", f);
}

static void write_plot_script(FILE *f, const report_plot *p)
{
    fprintf(f, "\n# ---- %s\nreset\nset output ", p->name);
    char svg[160];
    snprintf(svg, sizeof svg, "%s.svg", p->name);
    put_quoted(f, svg);
    fputs("\nset title ", f);
    put_quoted(f, p->title);
    fputs("\nset xlabel ", f);
    put_quoted(f, p->xlabel);
    fputs("\nset ylabel ", f);
    put_quoted(f, p->ylabel);
    fputs("\nset grid\nset key outside right top\nset offsets graph 0.02, graph 0.02, 0, 0\n",
          f);
    if (p->logx)
        fprintf(f, "set logscale x %d\n", p->logx);
    if (p->logy)
        fprintf(f, "set logscale y %d\n", p->logy);
    else
        fputs("set yrange [0:*]\n", f);
    if (p->x_bytes)
        fputs("set format x '%.0b %BB'\n", f);
    if (p->x_si)
        fputs("set format x '%.0s%c'\n", f);
    if (p->y_bytes)
        fputs("set format y '%.0s %cB'\n", f);
    if (p->x_integer)
        integer_tics(f, p);
    fputs("plot ", f);
    int block = 0;
    for (int i = 0; i < p->n_series; i++) {
        const report_series *s = &p->series[i];
        if (s->n == 0)
            continue;
        const char *colour = PALETTE[(s->color % PALETTE_SIZE + PALETTE_SIZE) % PALETTE_SIZE];
        if (block)
            fputs(", \\\n     ", f);
        fprintf(f, "'%s.dat' index %d ", p->name, block);
        switch (s->style) {
        case REPORT_DASHED:
            fprintf(f, "using 1:2 with lines lw 2 dt 2 lc rgb '%s'", colour);
            break;
        case REPORT_ERRORBARS:
            fprintf(f, "using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 0.6 dt 1 lc rgb '%s'",
                    colour);
            break;
        default:
            fprintf(f, "using 1:2 with linespoints lw 2 pt 7 ps 0.6 dt 1 lc rgb '%s'", colour);
            break;
        }
        fputs(" title ", f);
        put_quoted(f, s->title);
        block++;
    }
    fputs("\nset output\n", f);
}

static int write_script(const report_plots *plots, const char *dir, char *err, size_t err_len)
{
    char path[4352];
    snprintf(path, sizeof path, "%s/%s", dir, REPORT_SCRIPT);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, err_len, "report: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fputs("# The plots of the dtbench report. Redraw them: cd into this directory and run\n"
          "# gnuplot " REPORT_SCRIPT "\n"
          "set terminal svg size 880,520 dynamic noenhanced font 'Sans,12' "
          "background rgb 'white'\n"
          "set encoding utf8\n",
          f);
    for (int i = 0; i < plots->n; i++)
        if (report_plot_points(&plots->items[i]) > 0)
            write_plot_script(f, &plots->items[i]);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        snprintf(err, err_len, "report: cannot write %s", path);
        return -1;
    }
    return 0;
}

/* The last non-empty line of gnuplot's messages (its error), or "". */
static void last_log_line(const char *path, char *line, size_t len)
{
    line[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char buf[512];
    while (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        const char *t = buf;
        while (*t == ' ' || *t == '\t' || *t == '^')
            t++;
        if (*t)
            snprintf(line, len, "%.300s", t);
    }
    fclose(f);
}

static int run_gnuplot(const char *dir, const char *gnuplot, char *err, size_t err_len)
{
    char script[4352], log[4352];
    snprintf(script, sizeof script, "%s/%s", dir, REPORT_SCRIPT);
    snprintf(log, sizeof log, "%s/%s", dir, REPORT_GNUPLOT_LOG);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_len, "report: cannot start gnuplot for %s: %s", script,
                 strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int out = open("/dev/null", O_WRONLY);
        int errfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0 || errfd < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0 || chdir(dir) != 0)
            _exit(126);
        execl(gnuplot, "gnuplot", REPORT_SCRIPT, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, err_len, "report: waiting for gnuplot on %s: %s", script,
                     strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        struct stat st;
        if (stat(log, &st) == 0 && st.st_size == 0)
            unlink(log);
        return 0;
    }
    char why[32], line[400];
    if (WIFEXITED(status))
        snprintf(why, sizeof why, "exit %d", WEXITSTATUS(status));
    else
        snprintf(why, sizeof why, "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    last_log_line(log, line, sizeof line);
    snprintf(err, err_len, "report: gnuplot failed (%s) on %s%s%s", why, script,
             line[0] ? ": " : "", line);
    return -1;
}

int report_plots_render(const report_plots *plots, const char *dir, const char *gnuplot,
                        char *err, size_t err_len)
{
    int any = 0;
    for (int i = 0; i < plots->n; i++) {
        if (report_plot_points(&plots->items[i]) == 0)
            continue;
        any = 1;
        if (write_data(&plots->items[i], dir, err, err_len))
            return -1;
    }
    if (!any)
        return 0;
    if (write_script(plots, dir, err, err_len) || run_gnuplot(dir, gnuplot, err, err_len))
        return -1;
    for (int i = 0; i < plots->n; i++) {
        if (report_plot_points(&plots->items[i]) == 0)
            continue;
        char svg[4352];
        struct stat st;
        snprintf(svg, sizeof svg, "%s/%s.svg", dir, plots->items[i].name);
        if (stat(svg, &st) != 0 || st.st_size == 0) {
            snprintf(err, err_len, "report: gnuplot made no %s (script %s/%s)", svg, dir,
                     REPORT_SCRIPT);
            return -1;
        }
    }
    return 0;
}
