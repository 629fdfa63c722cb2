#!/usr/bin/python3
"""A dtbench checkpoint read the way a third party would: json, hashlib and
NumPy only, never dtbench's reader.

Run with Debian's /usr/bin/python3 and its NumPy (python3-numpy), NOT the
pyenv python3 first on PATH, which has no numpy. CTest calls it as
/usr/bin/python3.

checkpoint_numpy_writer saves a checkpoint (AdamW, a GPT-like tensor table,
three ranks writing overlapping ranges) and beside it the values it saved
as raw little-endian float32. This checks that
  - manifest.json is strict JSON with the documented fields, the recipe's
    doubles exactly the writer's (printed as hex floats) and the 64-bit seed
    every digit of it;
  - the directory holds manifest.json and the arrays it lists, nothing else;
  - each file's size and sha256 (hashlib) are the manifest's;
  - numpy.load reads each as '<f4' of shape (n_params,) with exactly the
    saved bits;
  - the tensor table tiles 0..n_params, and each tensor's slice reshapes to
    its shape in C order.

Usage: checkpoint_numpy.py WRITER
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    sys.exit("checkpoint_numpy: numpy is missing: run ci/install-deps.sh (python3-numpy) and "
             "run this with /usr/bin/python3")

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("not ok - " + what)
    return cond


def strict_json(path):
    def refuse(token):
        raise ValueError("not JSON: " + token)

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate member name")
        return dict(pairs)

    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"), parse_constant=refuse,
                          object_pairs_hook=no_duplicates)


def check_manifest(m, printed):
    check(m["format"] == "dtbench-checkpoint" and m["version"] == 1, "format and version")
    check(m["step"] == 17, "step")
    model = m["model"]
    check(model["name"] == 'gpt-tiny "numpy"' and model["kind"] == "gpt", "model name and kind")
    recipe = m["recipe"]
    check(recipe["optimizer"] == "adamw" and recipe["precision"] == "bf16-mixed", "recipe enums")
    for name in ("lr", "momentum", "beta1", "beta2", "eps", "weight_decay", "clip_norm"):
        check(float(recipe[name]) == float.fromhex(printed[name]),
              "recipe %s %r is the writer's %s" % (name, recipe[name], printed[name]))
    check(type(recipe["seed"]) is int and recipe["seed"] == int(printed["seed"]), "seed, all 64 bits")
    check(recipe["global_batch"] == 24 and recipe["micro_batches"] == 4, "batch")
    check(m["writer"] == {"impl": "ref-zero3", "stage": "zero3", "world_size": 3}, "writer")
    check(list(m["arrays"]) == ["params", "exp_avg", "exp_avg_sq"], "AdamW's arrays in file order")


def check_arrays(ckpt, root, m):
    n = m["model"]["n_params"]
    loaded = {}
    for name, info in m["arrays"].items():
        path = os.path.join(ckpt, info["file"])
        check(info["file"] == name + ".npy" and info["dtype"] == "float32" and info["shape"] == [n],
              name + ": file, dtype, shape")
        with open(path, "rb") as f:
            raw = f.read()
        check(len(raw) == info["bytes"], name + ": size is the manifest's")
        check(hashlib.sha256(raw).hexdigest() == info["sha256"], name + ": sha256 is the manifest's")
        a = np.load(path)
        check(a.dtype == np.dtype("<f4") and a.shape == (n,), name + ": '<f4' of shape (n_params,)")
        want = np.fromfile(os.path.join(root, "expected-%s.bin" % name), dtype="<f4")
        check(want.shape == (n,) and np.count_nonzero(want) == n, name + ": expected values, none zero")
        check(np.array_equal(a.view("<u4"), want.view("<u4")), name + ": the saved bits")
        loaded[name] = a
    return loaded


def check_tensors(m, params):
    at = 0
    for i, t in enumerate(m["model"]["tensors"]):
        shape = tuple(t["shape"])
        check(t["offset"] == at and t["numel"] == int(np.prod(shape)), "tensor %d tiles" % i)
        check(isinstance(t["decay"], bool) and isinstance(t["tied"], bool), "tensor %d flags" % i)
        view = params[t["offset"]:t["offset"] + t["numel"]].reshape(shape)
        check(view.shape == shape, "tensor %s reshapes to %s" % (t["name"], shape))
        last = tuple(d - 1 for d in shape)
        flat = t["offset"] + int(np.ravel_multi_index(last, shape))
        check(flat == t["offset"] + t["numel"] - 1 and view[last] == params[flat],
              "tensor %s in C order" % t["name"])
        at += t["numel"]
    check(at == m["model"]["n_params"], "the tensors end at n_params")
    names = [t["name"] for t in m["model"]["tensors"]]
    check(names[0] == "wte" and m["model"]["tensors"][0]["tied"] and m["model"]["tensors"][0]["layer"] == -1,
          "wte tied, layer -1")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: checkpoint_numpy.py WRITER")
    root = tempfile.mkdtemp(prefix="ckpt-numpy-")
    try:
        out = subprocess.run([sys.argv[1], root], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
        printed = dict(line.split(" ", 1) for line in out.splitlines())
        ckpt = printed["dir"]
        check(ckpt == os.path.join(root, "step-17"), "committed as step-17")
        m = strict_json(os.path.join(ckpt, "manifest.json"))
        check_manifest(m, printed)
        check(sorted(os.listdir(ckpt)) ==
              sorted(["manifest.json"] + [a["file"] for a in m["arrays"].values()]),
              "the directory holds the manifest and its arrays only")
        loaded = check_arrays(ckpt, root, m)
        check_tensors(m, loaded["params"])
        check(not [e for e in os.listdir(root) if e.startswith(".step-")], "no staging directory left")
    finally:
        shutil.rmtree(root)
    if FAILURES:
        sys.exit("checkpoint_numpy: %d check(s) failed" % len(FAILURES))
    print("checkpoint_numpy: all checks passed")


if __name__ == "__main__":
    main()
