#!/bin/bash
# The plugin kit as a third party uses it: install dtbench into a temporary
# prefix, build examples/ddp_simple against that prefix only (a copy of the
# example, so nothing can reach into the source tree), once with CMake
# (find_package(dtbench)) and once with its Makefile (pkg-config), then run
# the INSTALLED dtbench on the plugins it built:
#   - the CMake build: plugin-check passes, and the ddp suite on mlp-odd at
#     np 1,2,3 passes with every bf16-mixed case skipped (the example
#     declares fp32 only) and every fp32 case run;
#   - the pkg-config build: the same on the default models at np 1,4;
#   - dtbench's own ref-ddp, by name from the installed plugins folder, is
#     judged strictly, a plugin given by path neutrally.
# SANITIZE=ON builds the example with ASan+UBSan too (the sanitizer build).
# usage: kit.sh CMAKE BUILD_DIR SOURCE_DIR [SANITIZE]
set -u
CMAKE=$1 BUILD=$2 SRC=$3 SANITIZE=${4:-OFF}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-kit-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: kit: $*" >&2; failures=$((failures + 1)); }
die() { echo "FAIL: kit: $*" >&2; exit 1; }

PREFIX=$TMP/prefix
"$CMAKE" --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 ||
    die "cmake --install failed: $(tail -3 "$TMP/install.log")"
DTBENCH=$PREFIX/bin/dtbench
[ -x "$DTBENCH" ] || die "no installed $DTBENCH"
pc=$(find "$PREFIX" -name dtbench.pc) && [ -n "$pc" ] || die "no dtbench.pc installed"
[ -f "$PREFIX/include/dtbench/plugin.h" ] || fail "no installed include/dtbench/plugin.h"
cp -r "$SRC/examples/ddp_simple" "$TMP/example" || die "cannot copy the example"

flags=()
if [ "$SANITIZE" = ON ]; then
    san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
    flags=(-DCMAKE_C_FLAGS="$san" -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined")
fi

# ---- CMake: find_package(dtbench) through CMAKE_PREFIX_PATH -----------------
"$CMAKE" -S "$TMP/example" -B "$TMP/cmake-build" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "${flags[@]}" >"$TMP/cmake.log" 2>&1 ||
    die "configuring the example failed: $(tail -5 "$TMP/cmake.log")"
"$CMAKE" --build "$TMP/cmake-build" >>"$TMP/cmake.log" 2>&1 ||
    die "building the example with CMake failed: $(tail -5 "$TMP/cmake.log")"
grep -q "dtbench_DIR:PATH=$PREFIX/" "$TMP/cmake-build/CMakeCache.txt" ||
    fail "find_package(dtbench) did not use the installed package"
grep -qF -- "-isystem $PREFIX/include" "$TMP/cmake-build/compile_commands.json" ||
    fail "the compile line lacks the installed include directory"
grep -qF "$SRC" "$TMP/cmake-build/compile_commands.json" &&
    fail "the compile line reaches into the source tree $SRC"
CMAKE_SO=$TMP/cmake-build/ddp_simple.so
[ -f "$CMAKE_SO" ] || die "the CMake build made no ddp_simple.so"

# ---- pkg-config: the example's Makefile --------------------------------------
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags dtbench) || die "pkg-config --cflags dtbench failed"
inc=${cflags#-I}; inc=${inc%% *}
[ "$(cd "$inc" 2>/dev/null && pwd -P)" = "$(cd "$PREFIX/include" && pwd -P)" ] ||
    fail "pkg-config --cflags gives '$cflags', not the installed include directory"
[ "$(pkg-config --variable=dtbench dtbench)" -ef "$DTBENCH" ] ||
    fail "pkg-config's dtbench variable is not the installed executable"
mkdir "$TMP/make-build"
make_flags=()
[ "$SANITIZE" = ON ] && make_flags=(CFLAGS="-O2 $san")
make -C "$TMP/make-build" -f "$TMP/example/Makefile" "${make_flags[@]}" >"$TMP/make.log" 2>&1 ||
    die "building the example with pkg-config failed: $(tail -5 "$TMP/make.log")"
MAKE_SO=$TMP/make-build/ddp_simple.so
[ -f "$MAKE_SO" ] || die "the Makefile made no ddp_simple.so"

# ---- the installed dtbench on each build ----------------------------------------
# run_suite NAME SO ARGS...: the ddp suite passes, bf16 cases all skipped.
run_suite() {
    local name=$1 so=$2
    shift 2
    local tap=$TMP/$name.tap
    "$DTBENCH" run --suite ddp --impl "$so" "$@" --tap "$tap" --db "$TMP/results.db" \
        2>"$TMP/$name.err"
    local rc=$?
    tail -2 "$TMP/$name.err"
    [ $rc -eq 0 ] || fail "$name: dtbench run exited $rc: $(grep -m3 '^not ok' "$tap")"
    prove -e cat "$tap" >"$TMP/$name.prove" 2>&1 || fail "$name: prove: $(tail -3 "$TMP/$name.prove")"
    # Case labels "<impl> <model> <recipe> <precision> np=<n> mb=<m>".
    local bf16_cases bf16_skips fp32_cases fp32_skips
    bf16_cases=$(grep -E '^(not )?ok [0-9]+ - [^:]* bf16 np=' "$tap" | sed 's/:.*//; s/^.* - //' | sort -u | wc -l)
    bf16_skips=$(grep -cE '^ok [0-9]+ - [^:]* bf16 np=[^:]*: completed # SKIP .*lacks capability bf16-mixed' "$tap")
    fp32_cases=$(grep -E '^(not )?ok [0-9]+ - [^:]* fp32 np=' "$tap" | sed 's/:.*//; s/^.* - //' | sort -u | wc -l)
    fp32_skips=$(grep -cE '^ok [0-9]+ - [^:]* fp32 np=.*# SKIP' "$tap")
    [ "$bf16_cases" -gt 0 ] && [ "$bf16_cases" -eq "$bf16_skips" ] ||
        fail "$name: $bf16_skips of $bf16_cases bf16 cases skipped for lack of bf16-mixed"
    [ "$(grep -cE '^(not )?ok [0-9]+ - [^:]* bf16 np=' "$tap")" -eq "$bf16_cases" ] ||
        fail "$name: a skipped bf16 case has points besides 'completed'"
    local completed
    completed=$(grep -cE '^ok [0-9]+ - [^:]* fp32 np=[^:]*: completed$' "$tap")
    [ "$fp32_cases" -gt 0 ] && [ "$completed" -eq "$fp32_cases" ] && [ "$fp32_skips" -eq 0 ] ||
        fail "$name: $completed of $fp32_cases fp32 cases completed, $fp32_skips points skipped"
    echo "kit.sh: $name: $fp32_cases fp32 cases passed, $bf16_skips bf16 cases skipped"
}
# plugin-check first, as a third party would: one small case per capability.
"$DTBENCH" plugin-check "$CMAKE_SO" >"$TMP/check.out" 2>&1 ||
    fail "plugin-check failed: $(tail -2 "$TMP/check.out")"
grep -q '^plugin-check: ddp-simple passed' "$TMP/check.out" ||
    fail "plugin-check did not pass: $(tail -1 "$TMP/check.out")"
run_suite cmake "$CMAKE_SO" --np 1,2,3 --model mlp-odd
run_suite pkg-config "$MAKE_SO" --np 1,4

# The installed dtbench finds its own plugins by name (bin/../lib/dtbench/
# plugins) and holds them to the reference's exact checks by default (strict),
# a plugin given by path to the neutral ones only.
"$DTBENCH" run --suite ddp --impl ref-ddp --np 2 --model mlp-odd --tap "$TMP/ref.tap" \
    --db "$TMP/results.db" 2>"$TMP/ref.err" || fail "ref-ddp by name: $(tail -1 "$TMP/ref.err")"
grep -q '^ok [0-9]* - ref-ddp .*: communication matches theory$' "$TMP/ref.tap" ||
    fail "the installed ref-ddp was not judged strictly"
grep -q ': communication matches theory$' "$TMP/cmake.tap" &&
    fail "a plugin given by path was judged strictly"

[ $failures -eq 0 ] && echo "kit.sh: all checks passed"
[ $failures -eq 0 ]
