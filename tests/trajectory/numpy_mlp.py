"""An independent implementation of a trajectory folder's training, in NumPy
float32, written from docs/model-spec.md (sections 7-11, 15) and fed only
the folder's files: what a third party debugging its own trainer would do.

It accumulates the gradient over the folder's micro-batches (the baseline
runs the whole batch in one pass), sums with NumPy's own orders, and
computes the loss per micro-batch: a different fp32 implementation of the
same math, which the conformance tolerance must accept.
"""
import json

import numpy as np

F32 = np.float32
GELU_C, GELU_K = F32(0.7978845834732056), F32(0.044715)   # fl32(sqrt(2/pi)), fl32(0.044715)


def bf16_round(a):
    """Section 15: float32 -> bf16 nearest even, widened back to float32."""
    u = a.view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> np.uint64(16)) & np.uint64(1))) >> np.uint64(16)) << np.uint64(16)
    return u.astype(np.uint32).view(np.float32)


def forward_backward(w, x, y, scale, grads):
    """Sections 7-9 on one micro-batch: adds its gradient into grads, returns its loss sum."""
    n_linear = len(w) // 2
    acts, zs, a = [x], [], x
    for l in range(n_linear):
        z = a @ w[2 * l].T + w[2 * l + 1]
        zs.append(z)
        if l + 1 < n_linear:
            a = F32(0.5) * z * (F32(1) + np.tanh(GELU_C * (z + GELU_K * z * z * z)))
            acts.append(a)
    rows = np.arange(len(y))
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.sum((m[:, 0] + np.log(s[:, 0])) - z[rows, y], dtype=np.float64))
    dz = e / s
    dz[rows, y] -= F32(1)
    dz *= scale
    for l in range(n_linear - 1, -1, -1):
        grads[2 * l] += dz.T @ acts[l]
        grads[2 * l + 1] += dz.sum(axis=0)
        if l > 0:
            da = dz @ w[2 * l]
            zz = zs[l - 1]
            t = np.tanh(GELU_C * (zz + GELU_K * zz * zz * zz))
            du = GELU_C * (F32(1) + F32(3) * GELU_K * zz * zz)
            dz = da * (F32(0.5) * (F32(1) + t) + F32(0.5) * zz * (F32(1) - t * t) * du)
    return loss


def train(out):
    """Yields (step, params float32, loss, grad_norm) after each step."""
    with open(out + "/recipe.json") as f:
        r = json.load(f)
    files, tensors, opt = r["files"], r["model"]["tensors"], r["optimizer"]
    views = lambda flat: [flat[t["offset"]:t["offset"] + t["numel"]].reshape(t["shape"])
                          for t in tensors]
    p = np.load(out + "/" + files["init"]).copy()
    state1, state2 = np.zeros_like(p), np.zeros_like(p)
    B, clip = r["global_batch"], r["clip_norm"]
    for s in range(1, r["steps"] + 1):
        step = out + "/" + files["step_dir"] % s
        w = bf16_round(p) if r["precision"] == "bf16-mixed" else p
        g = np.zeros_like(p)
        loss = 0.0
        for m in range(r["micro_batches"]):
            micro = step + "/" + files["micro_dir"] % m
            x, y = np.load(micro + "/" + files["x"]), np.load(micro + "/" + files["y"])
            loss += forward_backward(views(w), x, y, F32(1.0 / B), views(g))
        norm = float(np.sqrt(np.sum(g.astype(np.float64) ** 2)))
        if clip > 0 and clip / (norm + r["clip_eps"]) < 1.0:       # section 10
            g *= F32(clip / (norm + r["clip_eps"]))
        if opt["kind"] == "adamw":                                   # section 11
            p = p * F32(1 - opt["lr"] * opt["weight_decay"])
            state1 = F32(opt["beta1"]) * state1 + F32(1 - opt["beta1"]) * g
            state2 = F32(opt["beta2"]) * state2 + F32(1 - opt["beta2"]) * (g * g)
            denom = np.sqrt(state2) / F32(np.sqrt(1 - opt["beta2"] ** s)) + F32(opt["eps"])
            p = p - F32(opt["lr"] / (1 - opt["beta1"] ** s)) * (state1 / denom)
        else:
            d = g + F32(opt["weight_decay"]) * p
            state1 = d if s == 1 else F32(opt["momentum"]) * state1 + d
            p = p - F32(opt["lr"]) * state1
        yield s, p, loss / B, norm
