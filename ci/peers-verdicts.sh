#!/usr/bin/env bash
# The verdict table of docs/python.md: every Python peer (and our reference
# of the same stage) on the conformance suite of each stage it runs, one
# dtbench run each, then one line per (implementation, suite): points
# passed / failed / skipped, the worst error/tolerance, the checks that
# failed. Usage: ci/peers-verdicts.sh [DTBENCH] [dtbench run options...]
# (default options: --np 1,2 --model mlp-odd --steps 3). Needs the peers'
# venv (ci/install-peers.sh). Results go to a fresh database in a temporary
# directory, printed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
dtbench="${1:-build/dtbench}"
shift || true
opts=("$@")
[ ${#opts[@]} -eq 0 ] && opts=(--np 1,2 --model mlp-odd --steps 3)
tmp="$(mktemp -d "${TMPDIR:-/tmp}/dtbench-verdicts-XXXXXX")"
export DTBENCH_DB="$tmp/results.db"

runs=(
  "ref-ddp ddp" "py:torch_ddp ddp" "py:torch_ddp_mean ddp"
  "ref-zero1 zero1" "py:torch_zero1 zero1" "py:deepspeed_zero zero1"
  "ref-zero2 zero2" "py:torch_fsdp zero2" "py:deepspeed_zero zero2"
  "ref-zero3 zero3" "py:torch_fsdp zero3" "py:deepspeed_zero zero3"
)
printf '%-20s %-6s %7s %7s %7s %10s  %s\n' implementation suite passed failed skipped worst \
  "failing checks (cases)"
for r in "${runs[@]}"; do
  read -r impl suite <<<"$r"
  "$dtbench" run --suite "$suite" --impl "$impl" --no-strict "${opts[@]}" \
      --tap "$tmp/out.tap" >/dev/null 2>"$tmp/err"
  summary=$(grep -E "^dtbench: suite $suite, impl " "$tmp/err" | tail -1)
  passed=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$summary")
  failed=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$summary")
  skipped=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$summary")
  worst=$(sed -nE 's/^dtbench: worst error\/tolerance ratio ([^ ]+).*/\1/p' "$tmp/err" | tail -1)
  checks=$(sed -n 's/^not ok [0-9]* - [^:]*: //p' "$tmp/out.tap" | sort | uniq -c |
           awk '{c=$1; $1=""; sub(/^ /,""); printf "%s%s (%d)", sep, $0, c; sep="; "}')
  printf '%-20s %-6s %7s %7s %7s %10s  %s\n' "$impl" "$suite" "${passed:--}" "${failed:--}" \
    "${skipped:--}" "${worst:--}" "${checks:-none}"
  [ -n "$summary" ] || { echo "  (no summary:)"; tail -3 "$tmp/err"; }
done
rm -rf "$tmp"
