#!/usr/bin/python3
"""`dtbench trajectory` end to end, checked the way a third party would:
with NumPy only, never with dtbench's own reader.

Run with Debian's /usr/bin/python3 and its NumPy (package python3-numpy,
installed by ci/install-deps.sh), NOT with the pyenv python3 first on PATH,
which has no numpy. CTest calls it as /usr/bin/python3.

It writes a trajectory of mlp-odd (the suite's defaults: 10 steps, batch 30
in 3 micro-batches) and checks that
  - the folder holds exactly the files recipe.json names, each a version 1.0
    .npy with its header padded to 64 bytes, which numpy.load reads with the
    dtype and shape recipe.json implies (tensor table, micro-batch split);
  - init.npy and the inputs and labels of steps 1 and 10 equal, bit for bit,
    what an independent Philox4x32-10 in NumPy computes from
    docs/model-spec.md (sections 1, 4, 5, 6);
  - a helper linked against dtbench's reference (trajectory_probe), given
    only recipe.json's hyper-parameters, gets the same initial parameters
    from the host API, the same oracle loss and grad norm at every step and
    parameters after the last, and the same baseline (the `baseline` plugin
    through the ABI) bit for bit;
  - the oracle's step-1 loss matches an fp64 forward pass in NumPy written
    from docs/model-spec.md (sections 7, 8, 15) to 1e-12 relative;
  - the clip coefficients follow section 10, the envelope is positive and
    holds the baseline, and (for the "baseline-multiple" model) is exactly
    tolerance.h's bound;
  - an independent fp32 implementation in NumPy (numpy_mlp.py), fed only
    the folder's files, stays within the envelope at every step: loss, grad
    norm and every parameter.

Usage: trajectory_e2e.py DTBENCH PROBE BASELINE_SO PRECISION RECIPE
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    sys.exit("trajectory_e2e: numpy is missing: run ci/install-deps.sh (python3-numpy) and "
             "run this with /usr/bin/python3")
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy_mlp  # noqa: E402

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("not ok - " + what)
    return cond


# ---- docs/model-spec.md section 14, written independently of reference/ ----
MASK = np.uint64(0xFFFFFFFF)
M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = 0x9E3779B9, 0xBB67AE85


def philox4x32_10(c0, c1, c2, c3, seed):
    x = [np.asarray(c, dtype=np.uint64) & MASK for c in (c0, c1, c2, c3)]
    x = list(np.broadcast_arrays(*x))
    k0, k1 = seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + W0) & 0xFFFFFFFF, (k1 + W1) & 0xFFFFFFFF
        p0, p1 = M0 * x[0], M1 * x[2]
        x = [(p1 >> np.uint64(32)) ^ x[1] ^ np.uint64(k0), p1 & MASK,
             (p0 >> np.uint64(32)) ^ x[3] ^ np.uint64(k1), p0 & MASK]
    return x


def unit(v0):
    return (v0.astype(np.float64) + 0.5) * 2.0 ** -32


def init_tensor(seed, dims, t):
    l = t // 2
    shape = (dims[l + 1], dims[l]) if t % 2 == 0 else (dims[l + 1],)
    i = np.arange(int(np.prod(shape)), dtype=np.uint64)
    v0 = philox4x32_10(i & MASK, i >> np.uint64(32), t, 0, seed)[0]
    bound = 1.0 / np.sqrt(np.float64(dims[l]))
    return (bound * (2.0 * unit(v0) - 1.0)).astype(np.float32).reshape(shape)


def sample_batch(seed, dims, step, first, count):
    j = np.arange(first, first + count, dtype=np.uint64)[:, None]
    i = np.arange(dims[0], dtype=np.uint64)[None, :]
    x = (2.0 * unit(philox4x32_10(i, j, step, 1, seed)[0]) - 1.0).astype(np.float32)
    v0 = philox4x32_10(0, j[:, 0], step, 2, seed)[0]
    y = ((v0 * np.uint64(dims[-1])) >> np.uint64(32)).astype(np.int32)
    return x, y


def split_range(total, parts, p):
    return p * total // parts, (p + 1) * total // parts - p * total // parts


def bf16_from_f64(d):
    a = np.abs(d)
    _, e = np.frexp(a)
    q = np.maximum(e - 8, -133)
    r = np.ldexp(np.rint(np.ldexp(a, -q)), q)
    return np.copysign(np.where(r >= 2.0 ** 128, np.inf, r), d)


def forward_loss_f64(weights, dims, x, y):
    """Sections 7-8 in double: GELU (tanh form) between layers, mean cross-entropy."""
    a = x.astype(np.float64)
    n_linear = len(dims) - 1
    for l in range(n_linear):
        W, b = weights[2 * l], weights[2 * l + 1]
        z = a @ W.T + b
        if l + 1 < n_linear:
            c, k = 0.79788456080286535588, 0.044715
            a = 0.5 * z * (1.0 + np.tanh(c * (z + k * z * z * z)))
        else:
            a = z
    m = a.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(a - m).sum(axis=1))
    return float(np.mean(lse - a[np.arange(len(y)), y]))


# ---- the folder -------------------------------------------------------------------
def npy_header_ok(path):
    with open(path, "rb") as f:
        head = f.read(10)
        if len(head) < 10 or head[:6] != b"\x93NUMPY" or head[6:8] != b"\x01\x00":
            return False
        hlen = head[8] | (head[9] << 8)
        text = f.read(hlen)
    return (10 + hlen) % 64 == 0 and text.endswith(b"\n") and \
        text.startswith(b"{'descr': '") and b"'fortran_order': False" in text


def load(out, rel, dtype, shape):
    path = os.path.join(out, rel)
    check(npy_header_ok(path), rel + ": a version 1.0 header padded to 64 bytes")
    a = np.load(path, allow_pickle=False)
    check(a.dtype == np.dtype(dtype) and a.shape == tuple(shape),
          "%s: %s %s, want %s %s" % (rel, a.dtype, a.shape, np.dtype(dtype), tuple(shape)))
    return a


def expected_files(r):
    f = r["files"]
    names = {"recipe.json", f["init"], f["scalars"]}
    for s in range(1, r["steps"] + 1):
        step = f["step_dir"] % s
        for m in range(r["micro_batches"]):
            micro = f["micro_dir"] % m
            names |= {os.path.join(step, micro, f["x"]), os.path.join(step, micro, f["y"])}
        names |= {os.path.join(step, f[k])
                  for k in ("baseline_params", "oracle_params", "envelope_params")}
    return names


def check_tensor_table(r):
    m = r["model"]
    dims, offset = m["dims"], 0
    for t, d in enumerate(m["tensors"]):
        l = t // 2
        shape = [dims[l + 1], dims[l]] if t % 2 == 0 else [dims[l + 1]]
        check(d["name"] == ("W%d" if t % 2 == 0 else "b%d") % l and d["shape"] == shape and
              d["offset"] == offset and d["numel"] == int(np.prod(shape)) and d["layer"] == l,
              "tensor table entry %d: %s" % (t, d))
        offset += d["numel"]
    check(offset == m["n_params"] and len(m["tensors"]) == 2 * (len(dims) - 1),
          "tensor table covers n_params %d" % m["n_params"])


def run_probe(probe, baseline, r):
    o = r["optimizer"]
    args = [probe, "--baseline", baseline, "--model", r["model"]["name"],
            "--seed", str(r["seed"]), "--optimizer", o["kind"], "--lr", repr(o["lr"]),
            "--momentum", repr(o.get("momentum", 0.0)), "--beta1", repr(o.get("beta1", 0.0)),
            "--beta2", repr(o.get("beta2", 0.0)), "--eps", repr(o.get("eps", 0.0)),
            "--weight-decay", repr(o["weight_decay"]), "--clip", repr(r["clip_norm"]),
            "--batch", str(r["global_batch"]), "--steps", str(r["steps"]),
            "--precision", r["precision"]]
    p = subprocess.run(args, capture_output=True, text=True)
    if not check(p.returncode == 0, "trajectory_probe ran: " + p.stderr.strip()):
        return None
    got = {}
    for line in p.stdout.splitlines():
        kind, index, *values = line.split()
        got.setdefault(kind, {})[int(index)] = [float.fromhex(v) for v in values]
    return got


def column(got, kind, n, k=0):
    return np.array([got[kind][i][k] for i in range(n)], dtype=np.float64)


def main(dtbench, probe, baseline, precision, recipe):
    tmp = tempfile.mkdtemp(prefix="dtbench-traj-")
    try:
        out = os.path.join(tmp, "traj")
        p = subprocess.run([dtbench, "trajectory", "--model", "mlp-odd", "--recipe", recipe,
                            "--precision", precision, "--out", out],
                           capture_output=True, text=True)
        if not check(p.returncode == 0 and p.stderr == "" and p.stdout.startswith("wrote "),
                     "dtbench trajectory: exit %d, stderr %r" % (p.returncode, p.stderr)):
            return
        check(os.listdir(tmp) == ["traj"], "nothing beside --out: %s" % os.listdir(tmp))
        verify(out, probe, baseline)
    finally:
        shutil.rmtree(tmp)


def verify(out, probe, baseline):
    with open(os.path.join(out, "recipe.json")) as f:
        r = json.load(f)
    check(r["format"] == "dtbench-trajectory" and r["format_version"] == 1, "format")
    check_tensor_table(r)
    dims, n, steps = r["model"]["dims"], r["model"]["n_params"], r["steps"]
    seed, B, M, f = r["seed"], r["global_batch"], r["micro_batches"], r["files"]
    check(r["philox_key"] == [seed & 0xFFFFFFFF, seed >> 32], "philox key")

    present = set()
    for root, _, names in os.walk(out):
        present |= {os.path.relpath(os.path.join(root, x), out) for x in names}
    check(present == expected_files(r), "exactly the files recipe.json names: extra %s, "
          "missing %s" % (sorted(present - expected_files(r))[:5],
                          sorted(expected_files(r) - present)[:5]))

    # Shapes, dtypes, and the data against the independent Philox.
    init = load(out, f["init"], "<f4", [n])
    ref_init = np.concatenate([init_tensor(seed, dims, t).ravel() for t in range(2 * (len(dims) - 1))])
    check(np.array_equal(init.view(np.uint32), ref_init.view(np.uint32)),
          "init.npy equals the Philox init of section 4 bit for bit")
    cols = r["scalar_columns"]
    sc = load(out, f["scalars"], "<f8", [steps, len(cols)])
    c = {name: sc[:, k] for k, name in enumerate(cols)}
    check(np.array_equal(c["step"], np.arange(1, steps + 1)), "scalars: steps 1..%d" % steps)
    check(r["micro_batch_samples"] == [list(split_range(B, M, m)) for m in range(M)],
          "micro_batch_samples is split_range(B, M, m)")
    params = {k: [] for k in ("baseline", "oracle", "envelope")}
    for s in range(1, steps + 1):
        step = f["step_dir"] % s
        for m in range(M):
            first, count = split_range(B, M, m)
            x = load(out, os.path.join(step, f["micro_dir"] % m, f["x"]), "<f4", [count, dims[0]])
            y = load(out, os.path.join(step, f["micro_dir"] % m, f["y"]), "<i4", [count])
            if s in (1, steps):
                rx, ry = sample_batch(seed, dims, s, first, count)
                check(np.array_equal(x.view(np.uint32), rx.view(np.uint32)) and
                      np.array_equal(y, ry),
                      "step %d micro %d: x, y equal sample_batch(%d, %d) bit for bit" %
                      (s, m, first, count))
        params["baseline"].append(load(out, os.path.join(step, f["baseline_params"]), "<f4", [n]))
        params["oracle"].append(load(out, os.path.join(step, f["oracle_params"]), "<f8", [n]))
        params["envelope"].append(load(out, os.path.join(step, f["envelope_params"]), "<f8", [n]))
    b, o, e = (np.stack(params[k]) for k in ("baseline", "oracle", "envelope"))

    # dtbench's own pieces, given recipe.json's hyper-parameters only.
    got = run_probe(probe, baseline, r)
    if got is not None:
        host_init = column(got, "init", n).astype(np.float32)
        check(np.array_equal(host_init.view(np.uint32), init.view(np.uint32)),
              "init.npy equals the host API's init_params bit for bit")
        check(np.array_equal(np.array([got["oracle"][s][0] for s in range(1, steps + 1)]),
                             c["oracle_loss"]),
              "oracle loss of every step equals oracle_train_f64's")
        check(np.array_equal(np.array([got["oracle"][s][1] for s in range(1, steps + 1)]),
                             c["oracle_grad_norm"]),
              "oracle grad norm of every step equals oracle_train_f64's")
        check(np.array_equal(column(got, "oracle_param", n), o[-1]),
              "oracle parameters after the last step equal oracle_train_f64's")
        for k, name in enumerate(("baseline_loss", "baseline_grad_norm", "baseline_clip_coef")):
            check(np.array_equal(np.array([got["baseline"][s][k] for s in range(1, steps + 1)]),
                                 c[name]),
                  "%s of every step equals the baseline plugin's" % name)
        bp = column(got, "baseline_param", n).astype(np.float32)
        check(np.array_equal(bp.view(np.uint32), b[-1].view(np.uint32)),
              "baseline parameters after the last step equal the baseline plugin's bit for bit")

    # Section 7-8 (and 15) in NumPy against the oracle's step-1 loss.
    tensors = []
    for t, d in enumerate(r["model"]["tensors"]):
        w = init[d["offset"]:d["offset"] + d["numel"]].astype(np.float64).reshape(d["shape"])
        tensors.append(bf16_from_f64(w) if r["precision"] == "bf16-mixed" else w)
    x1, y1 = sample_batch(seed, dims, 1, 0, B)
    loss1 = forward_loss_f64(tensors, dims, x1, y1)
    check(abs(loss1 - c["oracle_loss"][0]) <= 1e-12 * abs(loss1),
          "oracle step-1 loss %.17g equals NumPy's fp64 forward %.17g" % (c["oracle_loss"][0], loss1))

    # Section 10: the clip coefficient.
    clip = r["clip_norm"]
    want = np.array([min(1.0, clip / (g + r["clip_eps"])) if clip > 0 else 1.0
                     for g in c["oracle_grad_norm"]])
    check(np.array_equal(want, c["oracle_clip_coef"]), "oracle clip coefficients (section 10)")
    want = np.array([min(1.0, clip / (g + r["clip_eps"])) if clip > 0 else 1.0
                     for g in c["baseline_grad_norm"]])
    check(np.array_equal(want, c["baseline_clip_coef"]), "baseline clip coefficients")
    if clip > 0:
        check(bool(np.all(c["oracle_clip_coef"] < 1.0)), "clipping acts at every step")

    # The envelope.
    check(bool(np.all(np.isfinite(e)) and np.all(e > 0)), "envelope finite and positive")
    check(bool(np.all(np.abs(b.astype(np.float64) - o) <= e)), "the baseline lies in the envelope")
    for key in ("loss", "grad_norm"):
        check(bool(np.all(np.abs(c["baseline_" + key] - c["oracle_" + key]) <= c["envelope_" + key])),
              "baseline %s within envelope_%s" % (key, key))
    env = r["envelope"]
    check(env["conformance_param_steps"] == ([1, steps] if steps > 1 else [1]),
          "conformance_param_steps")
    if env["model"] == "baseline-multiple":
        eps_floor = 64.0 * 2.0 ** -23
        for d in r["model"]["tensors"]:
            sl = slice(d["offset"], d["offset"] + d["numel"])
            err = np.abs(b[:, sl].astype(np.float64) - o[:, sl]).max(axis=1)
            bound = 8.0 * err + eps_floor * np.abs(o[:, sl]).max(axis=1)
            check(np.array_equal(e[:, sl], np.repeat(bound[:, None], d["numel"], axis=1)),
                  "envelope of %s is tolerance.h's bound" % d["name"])
        for key in ("loss", "grad_norm"):
            run = np.maximum.accumulate(np.abs(c["baseline_" + key] - c["oracle_" + key]))
            check(np.array_equal(c["envelope_" + key], 8.0 * run + eps_floor * np.abs(c["oracle_" + key])),
                  "envelope of %s is tolerance.h's running bound" % key)

    # A third party's implementation: within the envelope at every step.
    worst = 0.0
    for s, mine, loss, norm in numpy_mlp.train(out):
        ratios = (float(np.max(np.abs(mine.astype(np.float64) - o[s - 1]) / e[s - 1])),
                  abs(loss - c["oracle_loss"][s - 1]) / c["envelope_loss"][s - 1],
                  abs(norm - c["oracle_grad_norm"][s - 1]) / c["envelope_grad_norm"][s - 1])
        worst = max(worst, *ratios)
        check(max(ratios) <= 1.0, "numpy_mlp within the envelope at step %d: parameters, loss, "
              "grad norm at %.3g, %.3g, %.3g of the bound" % ((s,) + ratios))
    print("trajectory_e2e: %s %s, %d steps, %d files checked; an independent NumPy fp32 "
          "implementation reaches at most %.3f of the envelope" %
          (r["precision"], r["recipe"], steps, len(present), worst))


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit("usage: trajectory_e2e.py DTBENCH PROBE BASELINE_SO PRECISION RECIPE")
    main(*sys.argv[1:])
    if FAILURES:
        print("trajectory_e2e: %d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("trajectory_e2e: all checks passed")
