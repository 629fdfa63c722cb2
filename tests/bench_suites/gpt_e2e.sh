#!/usr/bin/env bash
# End to end, the benchmark suites on GPT models and the memory budget
# search's robustness (slow under AddressSanitizer: the release pass runs
# it): throughput's tokens/s and GPT FLOPs, the memory sweep over a GPT's
# units, the budget search's gpt2-w family, and a probe killed for memory.
# usage: gpt_e2e.sh DTBENCH OOM_PLUGIN
set -u
D=$1 OOM=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-gpt-e2e-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
DB=$TMP/r.db
q() { sqlite3 "$DB" "$1"; }

# A GPT: 4 sequences of 7 tokens per step, tokens/s = 7 x samples/s in
# every timed repetition, the step's FLOPs (6 Psi + 12 L C T) B T.
"$D" run --suite throughput --impl ref-zero3 --sizes gpt-odd --np 1,2 --warmup 0 --reps 5 \
    --db "$DB" --tap gpt.tap 2>gpt.err || fail "gpt-odd: exit $?: $(tail -3 gpt.err)"
[ "$(grep -c '^ok .*gpt-odd fp32 np=[12]: overlap measured$' gpt.tap)" -eq 2 ] ||
    fail "gpt-odd: overlap measured in fewer than 2 cases: $(cat gpt.tap)"
grun=$(q "SELECT max(id) FROM runs")
ratio=$(q "SELECT count(*) FROM cases c
           JOIN metrics a ON a.case_id=c.id AND a.name='tokens_per_second'
           JOIN samples x ON x.metric_id=a.id
           JOIN metrics b ON b.case_id=c.id AND b.name='samples_per_second'
           JOIN samples y ON y.metric_id=b.id AND y.seq=x.seq
           WHERE c.run_id=$grun AND abs(x.value - 7 * y.value) <= 1e-9 * x.value")
[ "$ratio" -eq 10 ] || fail "gpt-odd: tokens/s = 7 samples/s in $ratio of 10 repetitions"
flops=$(q "SELECT count(*) FROM cases c
           JOIN metrics a ON a.case_id=c.id AND a.name='achieved_gflops'
           JOIN samples x ON x.metric_id=a.id
           JOIN metrics b ON b.case_id=c.id AND b.name='samples_per_second'
           JOIN samples y ON y.metric_id=b.id AND y.seq=x.seq
           WHERE c.run_id=$grun AND abs(x.value * 1e9 - y.value / 4 * (6 * 32970 + 12 * 2 * 35 * 7) * 28)
                 <= 1e-9 * x.value * 1e9")
[ "$flops" -eq 10 ] || fail "gpt-odd: GFLOP/s = (6 Psi + 12 L C T) B T / t in $flops of 10 repetitions"

# A GPT: the four stages on gpt-odd's units (the embeddings with ln_f, two
# blocks), each within its bound, DDP exactly its formula; the budget search
# walks the GPT-2 width family, whose narrowest model's formula alone
# exceeds 1 MiB (a skip that names the family, no probe run).
"$D" run --suite memory --np 2 --sizes gpt-odd --precision fp32 --mem-budget 1M --db "$DB" \
    --tap gptmem.tap 2>gptmem.err || fail "gpt-odd: exit $?: $(tail -3 gptmem.err)"
[ "$(grep -c '^ok .*gpt-odd fp32 np=2: memory within theory$' gptmem.tap)" -eq 4 ] ||
    fail "gpt-odd: memory within theory in fewer than 4 stages: $(cat gptmem.tap)"
grep -q "^ok .* - ref-ddp fp32 np=2 within 1 MiB per rank: largest model found # SKIP no gpt2-w model fits" gptmem.tap ||
    fail "gpt budget: no gpt2-w skip: $(grep largest gptmem.tap)"
run=$(q "SELECT id FROM runs ORDER BY id DESC LIMIT 1")
gddp=$(q "SELECT s.value FROM cases c JOIN metrics m ON m.case_id=c.id JOIN samples s ON s.metric_id=m.id
          WHERE c.run_id=$run AND c.stage='ddp' AND c.model='gpt-odd' AND m.name='measured_over_theory'")
[ "$gddp" = "1.0" ] || fail "gpt-odd ddp measured_over_theory '$gddp', want 1"

# A probe the kernel kills for memory (the oom fault plugin raises SIGKILL above 10 M
# parameters) is a miss: the search still answers, with the widest mlp-w
# model of at most 10 M parameters (mlp-w1120: 9,829,024; mlp-w1136: 10,078,480)
# and says which probes were killed.
"$D" run --suite memory --impl "$OOM" --np 2 --sizes mlp-100k --precision fp32 \
    --mem-budget 512M --db "$DB" --tap oom.tap 2>oom.err || fail "oom: exit $?: $(tail -3 oom.err)"
grep -q '^ok .* - oom fp32 np=2 within 512 MiB per rank: largest model found$' oom.tap ||
    fail "oom: no answer: $(cat oom.tap)"
grep -q 'largest: "mlp-w1120"' oom.tap || fail "oom: want mlp-w1120: $(grep -A14 'largest model' oom.tap)"
grep -q 'misses (killed (SIGKILL, out of memory): a miss)' oom.tap ||
    fail "oom: no probe says it was killed: $(grep probe_ oom.tap)"

[ $failures -eq 0 ] && echo "gpt_e2e: all checks passed"
exit $((failures > 0))
