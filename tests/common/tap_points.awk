# One line per TAP test point of a dtbench run: STATUS<TAB>LABEL<TAB>CHECK,
# STATUS pass, fail or skip, for the test scripts that assert which points
# a plugin fails (dtbench labels points "<case label>: <check>").
# usage: awk -f tap_points.awk out.tap
/^(not )?ok [0-9]+ - / {
    status = ($1 == "not") ? "fail" : (index($0, " # SKIP") ? "skip" : "pass")
    line = $0
    sub(/^(not )?ok [0-9]+ - /, "", line)
    sub(/ # SKIP.*$/, "", line)
    i = index(line, ": ")
    if (i == 0) next
    printf "%s\t%s\t%s\n", status, substr(line, 1, i - 1), substr(line, i + 2)
}
