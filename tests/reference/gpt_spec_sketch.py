"""ref_gpt_spec_sketch: runs docs/model-spec.md's numpy sketches (sections 14
and 16.8) as written and compares gpt-odd's initial values and a batch bit
for bit with reference/ (the dump of ref_gpt_init_data --dump). A third
party who copies the page gets exactly dtbench's numbers.

usage: gpt_spec_sketch.py MODEL_SPEC_MD REF_GPT_INIT_DATA_BINARY
"""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

SEED, STEP, FIRST, COUNT = 987654321987, 3, 5, 10   # as in test_gpt_init_data.c
V, T, L, C = 67, 7, 2, 35                           # gpt-odd


def sketch_blocks(md):
    """The python blocks of sections 14 and 16.8."""
    blocks = {}
    for title in ("## 14. Sketch", "### 16.8 Sketch"):
        at = md.index(title)
        m = re.compile(r"```python\n(.*?)```", re.S).search(md, at)
        blocks[title] = m.group(1)
    return blocks


def main():
    spec, binary = sys.argv[1], sys.argv[2]
    with open(spec, encoding="utf-8") as f:
        blocks = sketch_blocks(f.read())
    env = {}
    for code in blocks.values():
        exec(compile(code, spec, "exec"), env)  # noqa: S102 - the page's own code
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dump.bin")
        subprocess.run([binary, "--dump", path], check=True)
        raw = open(path, "rb").read()
    params = env["init_gpt"](SEED, V, T, L, C)
    flat = np.concatenate([p.ravel() for p in params])
    n = flat.size
    ref = np.frombuffer(raw[:4 * n], dtype=np.float32)
    tokens = np.frombuffer(raw[4 * n:], dtype=np.int32).reshape(2, COUNT, T)
    inputs, targets = env["sample_gpt"](SEED, V, T, STEP, FIRST, COUNT)
    failures = 0
    same = ref.size == n and np.array_equal(ref.view(np.uint32), flat.view(np.uint32))
    print(("ok  " if same else "FAIL") + f" {n} initial values of gpt-odd equal bit for bit")
    failures += not same
    for name, mine, theirs in (("inputs", inputs, tokens[0]), ("targets", targets, tokens[1])):
        same = np.array_equal(mine, theirs)
        print(("ok  " if same else "FAIL") + f" {name} of {COUNT} sequences of step {STEP} equal")
        failures += not same
    # The page's reference values (seed 1).
    p1 = env["params"][0].ravel()[:4]
    want = np.array([0.0374794304, 0.0234799087, 0.0151942326, -0.0349388756], np.float32)
    same = np.array_equal(p1, want) and env["inputs"][0].tolist() == [30, 9, 50, 34, 1, 61, 22] \
        and int(env["targets"][0][-1]) == 0
    print(("ok  " if same else "FAIL") + " the page's reference values (seed 1)")
    failures += not same
    print(f"ref_gpt_spec_sketch: {4 - failures} of 4 passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
