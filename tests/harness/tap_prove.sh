#!/bin/sh
# prove (TAP::Harness 3.44) parses the TAP writer's output without errors.
# usage: tap_prove.sh TEST_HARNESS_TAP
set -u
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-tap-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
"$1" "$TMP/out.tap" || exit 1
prove -e cat "$TMP/out.tap" >"$TMP/prove" 2>&1
cat "$TMP/prove"
if grep -q "Parse errors" "$TMP/prove"; then echo "FAIL: prove reported parse errors"; exit 1; fi
grep -q "Tests: 4 Failed: 2" "$TMP/prove" || { echo "FAIL: prove miscounted"; exit 1; }
# The YAML block reads back, through prove's own YAMLish reader, as written.
perl -MTAP::Parser -e '
    open(my $fh, "<", $ARGV[0]) or die "cannot read $ARGV[0]\n";
    my $p = TAP::Parser->new({ tap => do { local $/; <$fh> } });
    my $y;
    while (my $r = $p->next) { $y //= $r->data if $r->is_yaml; }
    die "parse errors: @{[$p->parse_errors]}\n" if $p->parse_errors;
    die "no YAML block\n" unless $y;
    die "message: $y->{message}\n"
        unless $y->{message} eq "loss differs \"quoted\" \\ back\nslash\ttab";
    die "tensor\n" unless $y->{tensor} eq "W1";
    die "first_bad_step\n" unless $y->{first_bad_step} == 3;
    die "max_abs_error\n" unless $y->{max_abs_error} == 1.5e-5;
    die "log_tail: $y->{log_tail}\n" unless $y->{log_tail} =~ /^line one: a colon\n  indented\n/;
' "$TMP/out.tap" || { echo "FAIL: TAP::Parser does not read the YAML back as written"; exit 1; }
# Every YAML block is valid UTF-8 and valid YAML to a strict reader (PyYAML,
# Debian's python3-yaml), the one with a hostile plugin's bytes included.
/usr/bin/python3 "$(dirname "$0")/tap_yaml.py" "$TMP/out.tap" >"$TMP/blocks" ||
    { echo "FAIL: a YAML block is not valid YAML"; exit 1; }
[ "$(wc -l <"$TMP/blocks")" -eq 2 ] || { echo "FAIL: want 2 YAML blocks"; exit 1; }
grep -qF '"message": "bad \u00ff\u00fe, cut \u00c3' "$TMP/blocks" &&
    grep -qF 'ok \u00e9\u20ac\ud83d\ude00"' "$TMP/blocks" ||
    { echo "FAIL: the hostile block does not read back as escaped: $(tail -1 "$TMP/blocks")"; exit 1; }
echo "tap_prove.sh: prove parses the stream; every YAML block is valid YAML"
