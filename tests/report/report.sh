#!/usr/bin/env bash
# `dtbench report` end to end, on databases made by report_make_db.
# usage: report.sh MODE DTBENCH MAKE_DB
#   tables   the default report (latest complete benchmark runs): the runs and
#            machine tables, every throughput, memory, budget and comm row
#   plots    every expected SVG exists and is an SVG with drawn lines
#   html     --format html with several --run references
#   runs     --run of a conformance run (pass/fail summary, no plots), an older
#            run, latest (an incomplete run)
#   machine  the schema-3 machine columns (cores, BLAS, threads, MPI) shown
#   bad      bad input: one line on stderr, exit 2, no report, database untouched
# Every mode checks that the database file is byte-identical afterwards.
set -u
MODE=$1 D=$2 MAKE_DB=$3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-report-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
unset DTBENCH_DB DTBENCH_DB_TIMEOUT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

"$MAKE_DB" "$TMP" || { echo "FAIL: report_make_db" >&2; exit 1; }
for db in bench machine conformance norun corrupt; do cp "$db.db" "$db.orig"; done

need_gnuplot() {
    if ! command -v gnuplot >/dev/null 2>&1; then
        echo "FAIL: gnuplot is not installed: dtbench report draws its plots with it" \
             "(apt-get install gnuplot-nox; ci/install-deps.sh installs it)" >&2
        exit 1
    fi
}

# unchanged DB: the database file is byte-identical to its copy
unchanged() {
    cmp -s "$1.db" "$1.orig" || fail "$MODE: dtbench report modified $1.db"
}

# contains FILE LIST: every line of LIST is in FILE (fixed strings)
contains() {
    local file=$1 list=$2 line
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        grep -qF -- "$line" "$file" || fail "$MODE: $file lacks: $line"
    done <"$list"
}

# report_ok OUT ARGS...: dtbench report exits 0 and says where it wrote
report_ok() {
    local out=$1; shift
    "$D" report --out "$out" "$@" >stdout.txt 2>stderr.txt
    local rc=$?
    [ $rc -eq 0 ] || { fail "$MODE: dtbench report $*: exit $rc: $(cat stderr.txt)"; return 1; }
    grep -q "^report: wrote $out/report\.\(md\|html\) " stdout.txt ||
        fail "$MODE: no 'report: wrote' line: $(cat stdout.txt)"
    return 0
}

# expect_bad WANT OUT ARGS...: exit 2, one stderr line naming WANT, no report in OUT
expect_bad() {
    local want=$1 out=$2; shift 2
    "$D" report "$@" >stdout.txt 2>stderr.txt
    local rc=$?
    [ $rc -eq 2 ] || fail "bad: dtbench report $*: exit $rc, want 2: $(cat stderr.txt)"
    [ "$(wc -l <stderr.txt)" -eq 1 ] || fail "bad: dtbench report $*: want one line: $(cat stderr.txt)"
    grep -q '^dtbench: ' stderr.txt || fail "bad: $*: stderr does not start with 'dtbench: '"
    grep -qF -- "$want" stderr.txt || fail "bad: $*: stderr '$(cat stderr.txt)' lacks '$want'"
    [ ! -e "$out/report.md" ] && [ ! -e "$out/report.html" ] || fail "bad: $*: wrote a report"
}

is_svg() {
    local f=$1
    [ -s "$f" ] || { fail "plots: $f missing or empty"; return; }
    head -c 200 "$f" | grep -q '^\(<?xml\|<svg\)' || fail "plots: $f does not start as an SVG"
    grep -q '</svg>' "$f" || fail "plots: $f is not a whole SVG"
    grep -q '<path\|<polyline' "$f" || fail "plots: $f draws no lines"
}

case $MODE in
tables)
    need_gnuplot
    report_ok out --db bench.db && {
        [ -s out/report.md ] || fail "tables: no out/report.md"
        contains out/report.md expected.txt
        while IFS= read -r line; do
            grep -qF -- "$line" out/report.md && fail "tables: report.md has: $line"
        done <absent.txt
        grep -q "^The latest complete run of each benchmark suite in bench.db: throughput run 3; memory run 4; comm run 5\.$" out/report.md ||
            fail "tables: report does not say which runs it chose"
    }
    unchanged bench
    # DTBENCH_DB names the database as for every other command
    export DTBENCH_DB=bench.db
    report_ok out2 && { cmp -s out/report.md out2/report.md ||
        fail "tables: the report from \$DTBENCH_DB differs"; }
    unset DTBENCH_DB
    unchanged bench
    ;;
plots)
    need_gnuplot
    report_ok out --db bench.db && {
        n=0
        while IFS= read -r svg; do
            is_svg "out/$svg"
            grep -qF "($svg)" out/report.md || fail "plots: report.md does not show $svg"
            n=$((n + 1))
        done <svgs.txt
        [ "$n" -ge 8 ] || fail "plots: only $n SVGs expected"
        [ "$(ls out/*.svg | wc -l)" -eq "$n" ] || fail "plots: $(ls out/*.svg | wc -l) SVGs made, want $n"
        [ -s out/report.gp ] || fail "plots: no gnuplot script out/report.gp"
        grep -q "set terminal svg" out/report.gp || fail "plots: report.gp does not use the svg terminal"
        grep -q "dt 2" out/report.gp || fail "plots: no dashed theory / raw MPI lines"
        grep -q "yerrorlines" out/report.gp || fail "plots: no step-time error bars"
        grep -q "set logscale x 10" out/report.gp && grep -q "set logscale y 10" out/report.gp ||
            fail "plots: memory plots are not log-log"
        grep -q "set logscale x 2" out/report.gp || fail "plots: comm plots have no log x"
        # the script redraws the same plots
        (cd out && rm -f *.svg && gnuplot report.gp) || fail "plots: report.gp does not rerun"
        while IFS= read -r svg; do is_svg "out/$svg"; done <svgs.txt
    }
    unchanged bench
    ;;
html)
    need_gnuplot
    report_ok out --db bench.db --format html --run 3 --run nightly --run=5 --run 2 --run 3 && {
        f=out/report.html
        [ -s $f ] || fail "html: no $f"
        [ ! -e out/report.md ] || fail "html: wrote report.md too"
        head -1 $f | grep -q '<!DOCTYPE html>' || fail "html: not an HTML page"
        grep -q '</html>' $f || fail "html: not a whole page"
        grep -q '<img src="throughput-r3-mlp-8m-samples.svg"' $f || fail "html: no throughput img"
        grep -q '<img src="memory-r4-fp32-np4.svg"' $f || fail "html: no memory img"
        grep -q '<img src="comm-r5-np2.svg"' $f || fail "html: no comm img"
        grep -q '<td>ddp</td><td>ref-ddp</td><td class="r">3</td><td class="r">12</td>' $f ||
            fail "html: no conformance summary row"
        grep -q '<h2>Conformance: run 2 (ddp, ref-ddp)</h2>' $f || fail "html: no conformance heading"
        [ "$(grep -c '<h2>Throughput: run 3</h2>' $f)" -eq 1 ] || fail "html: run 3 (named twice) not once"
        grep -q 'Runs named with --run: 3 (run 3), nightly (run 4), 5 (run 5), 2 (run 2)\.' $f ||
            fail "html: does not say which runs were named"
        grep -q 'Test CPU @ 3.0GHz' $f || fail "html: no machine"
        for svg in throughput-r3-mlp-8m-samples.svg memory-r4-fp32-np4.svg comm-r5-np4.svg; do
            is_svg out/$svg
        done
    }
    unchanged bench
    ;;
runs)
    # a conformance run alone: no plots, so no gnuplot needed
    report_ok conf --db bench.db --run 2 && {
        grep -qF "| ddp | ref-ddp | 3 | 12 | 11 | 1 | 0 | 1.750 |" conf/report.md ||
            fail "runs: no conformance summary row"
        grep -qF -- "- ref-ddp ddp mlp-odd sgd noclip fp32 np=2 mb=1: parameters at step 3 (error/tolerance 1.75)" conf/report.md ||
            fail "runs: the failed check is not listed"
        grep -q "Verdict: FAIL (1 failed point)" conf/report.md || fail "runs: no FAIL verdict"
        [ -z "$(ls conf/*.svg 2>/dev/null)" ] || fail "runs: a conformance run got plots"
    }
    report_ok confonly --db conformance.db --run latest && contains confonly/report.md expected-conformance.txt
    unchanged conformance
    need_gnuplot
    # latest is run 6, incomplete: reported when named, marked as such
    report_ok latest --db bench.db --run latest && {
        grep -qF "| 6 | throughput | ref-ddp | incomplete |" latest/report.md ||
            fail "runs: latest (run 6) not shown as incomplete"
        grep -q "## Throughput: run 6" latest/report.md || fail "runs: no section for run 6"
    }
    # an older complete run, when named
    report_ok old --db bench.db --run 1 && {
        grep -q "## Throughput: run 1" old/report.md || fail "runs: no section for run 1"
        [ -s old/throughput-r1-mlp-1m-step.svg ] || fail "runs: no plot for run 1"
    }
    unchanged bench
    ;;
machine)
    need_gnuplot
    report_ok out --db machine.db && contains out/report.md expected-machine.txt
    unchanged machine
    ;;
bad)
    expect_bad "unknown run 99 in bench.db" o1 --db bench.db --run 99 --out o1
    expect_bad "unknown run or tag 'nosuchtag'" o2 --db bench.db --run 3 --run nosuchtag --out o2
    expect_bad "holds no complete run of a benchmark suite" o3 --db conformance.db --out o3
    expect_bad "holds no complete run of a benchmark suite" o4 --db norun.db --out o4
    expect_bad "corrupt.db" o5 --db corrupt.db --out o5
    expect_bad "no results database missing.db" o6 --db missing.db --out o6
    [ ! -e missing.db ] || fail "bad: a report created missing.db"
    : >empty.db
    expect_bad "empty.db is empty" o7 --db empty.db --out o7
    echo "not a database" >text.db
    expect_bad "text.db is not a SQLite database" o8 --db text.db --out o8
    echo "a file" >plainfile
    expect_bad "--out plainfile is not a directory" plainfile --db bench.db --out plainfile
    expect_bad "cannot create --out directory plainfile/sub" plainfile/sub --db bench.db --out plainfile/sub
    if [ "$(id -u)" -ne 0 ]; then
        mkdir ro && chmod 555 ro
        expect_bad "cannot write into --out directory ro" ro --db bench.db --out ro
    fi
    expect_bad "--out DIR is required" o9 --db bench.db
    expect_bad "unknown --format 'pdf'" o10 --db bench.db --out o10 --format pdf
    expect_bad "--run needs a value" o11 --db bench.db --out o11 --run
    expect_bad "unknown option '--bogus'" o12 --db bench.db --out o12 --bogus
    # no gnuplot on PATH: one line naming it and how to install it, nothing written
    env PATH=/nonexistent "$D" report --db bench.db --out o13 >stdout.txt 2>stderr.txt
    rc=$?
    [ $rc -eq 2 ] || fail "bad: without gnuplot: exit $rc, want 2"
    [ "$(wc -l <stderr.txt)" -eq 1 ] || fail "bad: without gnuplot: want one line: $(cat stderr.txt)"
    grep -q "^dtbench: report: gnuplot not found.*apt-get install gnuplot-nox" stderr.txt ||
        fail "bad: without gnuplot: '$(cat stderr.txt)' does not name gnuplot and how to install it"
    [ ! -e o13 ] || fail "bad: without gnuplot the report still created its directory"
    # gnuplot that fails: one line naming the script, no report.md
    mkdir fakebin && printf '#!/bin/sh\necho "report.gp line 3: broken" >&2\nexit 1\n' >fakebin/gnuplot &&
        chmod +x fakebin/gnuplot
    PATH=$TMP/fakebin:$PATH expect_bad "gnuplot failed (exit 1) on o14/report.gp: report.gp line 3: broken" o14 --db bench.db --out o14
    for db in bench conformance norun corrupt; do unchanged $db; done
    ;;
*)
    echo "report.sh: unknown mode $MODE" >&2
    exit 2
    ;;
esac

if [ $failures -ne 0 ]; then
    echo "report_$MODE: $failures failure(s)" >&2
    exit 1
fi
echo "report_$MODE: all checks passed"
