#!/usr/bin/python3
"""The source tree's dependency rules (docs/architecture.md), checked on the
files themselves. Run with Debian's /usr/bin/python3 (standard library only).

1. Layers: a file of harness/<layer> includes headers of its own layer or of
   a layer below it; suites/ sits between the harness's middle layers and
   cli. Side-by-side layers (judge and bench; record and report) do not
   include each other.
2. No module cycles anywhere in the tree: a module is a directory and a
   base name (impl/ddp/ddp = ddp.c + ddp.h); module X depends on module Y
   when X.c or X.h includes Y.h. A module's private part (X_state.h and
   X_state.c, X_internal.h) belongs to module X. A header with no .c
   beside it (an interface of several files) is transparent: its includer
   depends on what it includes. A cycle between modules is an
   error that names the modules.
3. No object cycles in the build: object file A uses object file B when A
   refers to a global symbol B defines (nm over the libdtb_*.a archives of
   BUILD_DIR). Two files that call each other through a shared header are
   invisible to rule 2 and caught here.

Usage: layers.py SOURCE_DIR BUILD_DIR
"""
import glob
import os
import re
import subprocess
import sys

LAYERS = ["core", "case", "world", "judge", "bench", "report", "record", "suites", "cli"]
SIDE_BY_SIDE = [{"judge", "bench"}, {"record", "report"}]
TREES = ["harness", "suites", "reference", "impl", "results", "include"]
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(path):
    parts = path.split(os.sep)
    if parts[0] == "harness" and len(parts) > 2:
        return parts[1]
    if parts[0] == "suites":
        return "suites"
    return None


def find_cycles(graph):
    """Each cycle of a {node: set(node)} graph once, as a list of nodes."""
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return cycles


def object_graph(build):
    """{object: objects whose global symbols it uses} over libdtb_*.a."""
    defined, used = {}, {}
    libs = sorted(glob.glob(os.path.join(build, "**", "libdtb_*.a"), recursive=True))
    for lib in libs:
        out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) != 3:
                continue
            obj = os.path.basename(lib) + ":" + parts[0].split(":")[1]
            if parts[1] == "U":
                used.setdefault(obj, set()).add(parts[2])
            elif parts[1] in "TDBRCW":
                defined[parts[2]] = obj
    return libs, {o: {defined[s] for s in syms if s in defined} - {o} for o, syms in used.items()}


def main(src, build):
    build = os.path.abspath(build)
    os.chdir(src)
    files = []
    for tree in TREES:
        for root, _, names in os.walk(tree):
            files += [os.path.join(root, n) for n in names if n.endswith((".c", ".h", ".cu"))]
    files.sort()
    headers = {}
    problems = []
    for f in files:
        if f.endswith(".h"):
            name = os.path.basename(f)
            if name in headers:
                problems.append(f"header name {name} is used twice: {headers[name]} and {f}")
            headers[name] = f
    includes = {f: INCLUDE_RE.findall(open(f, encoding="utf-8").read()) for f in files}

    # 1. layers
    for f in files:
        mine = layer_of(f)
        if f.startswith("harness" + os.sep) and mine not in LAYERS:
            problems.append(f"{f} is in no known layer")
            continue
        if mine is None:
            continue
        for inc in includes[f]:
            target = headers.get(os.path.basename(inc))
            if target is None:
                problems.append(f'{f} includes "{inc}", which is no header of this tree')
                continue
            theirs = layer_of(target)
            if theirs is None:
                continue
            if LAYERS.index(theirs) > LAYERS.index(mine):
                problems.append(f"{f} ({mine}) includes {inc} of {theirs}, a layer above it")
            elif theirs != mine and {mine, theirs} in SIDE_BY_SIDE:
                problems.append(f"{f} ({mine}) includes {inc} of {theirs}: side by side, "
                                "independent layers")

    # 2. module cycles
    def module(path):
        m = os.path.splitext(path)[0]
        for private in ("_state", "_internal"):
            if m.endswith(private):
                return m[: -len(private)]
        return m
    implemented = {module(f) for f in files if not f.endswith(".h")}
    direct = {}
    for f in files:
        deps = direct.setdefault(module(f), set())
        for inc in includes[f]:
            target = headers.get(os.path.basename(inc))
            if target is not None:
                deps.add(module(target))

    def resolved(mod, seen):
        """Modules with a .c that mod depends on, through transparent headers."""
        out = set()
        for d in direct.get(mod, ()):
            if d == mod or d in seen:
                continue
            if d in implemented:
                out.add(d)
            else:
                out |= resolved(d, seen | {d})
        return out

    graph = {m: resolved(m, {m}) - {m} for m in implemented}
    for cycle in find_cycles(graph):
        problems.append("module cycle: " + " -> ".join(cycle))

    # 3. object cycles
    libs, objects = object_graph(build)
    if not libs:
        problems.append(f"no libdtb_*.a under {build}: build first")
    for cycle in find_cycles(objects):
        problems.append("object cycle: " + " -> ".join(cycle))

    for p in problems:
        print("layers: " + p, file=sys.stderr)
    if problems:
        return 1
    print(f"layers: {len(files)} files, {len(LAYERS)} layers, every include points down, "
          f"{len(graph)} modules and {len(objects)} objects, no cycle")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: layers.py SOURCE_DIR BUILD_DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
