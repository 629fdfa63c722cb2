"""The bridge's side of each ABI call (python_bridge's bridge.c calls these).

One module per process: load() imports it from its file; every other call
forwards to the module's function of the same name and converts the result
to what the C side unpacks. The traffic of torch.distributed collectives is
counted only while create and train_step run, as the harness counts MPI.
"""

import importlib.util
import os
import sys

from . import counting
from .abi import CAPS, Counters, Facts
from .host import Host
from .spec import Spec

_module = None
_REQUIRED = ("create", "train_step", "get_params", "get_facts")


def load(path, to_train=1):
    """Imports the module at `path`; (name, version, description, caps,
    has_compute_params). to_train: loaded by a rank worker, which will
    train it (a probe only reads the table)."""
    global _module
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    missing = [f for f in _REQUIRED if not callable(getattr(module, f, None))]
    if missing:
        raise AttributeError(f"the module lacks function {', '.join(missing)}")
    for attr in ("NAME", "VERSION", "DESCRIPTION", "CAPS"):
        if not hasattr(module, attr):
            raise AttributeError(f"the module lacks {attr}")
    caps = 0
    for c in module.CAPS:
        if c not in CAPS:
            raise ValueError(f"unknown capability '{c}' in CAPS (known: {', '.join(CAPS)})")
        caps |= CAPS[c]
    if caps & CAPS["checkpoint"]:
        raise ValueError("the Python bridge does not carry checkpoints yet: drop 'checkpoint' from CAPS")
    _module = module
    if to_train and "torch" in sys.modules:
        _warm_up_torch()
    return (str(module.NAME), str(module.VERSION), str(module.DESCRIPTION), caps,
            callable(getattr(module, "get_compute_params", None)))


class _State:
    def __init__(self, spec, host):
        self.spec, self.host, self.obj = spec, host, None


def create(spec_dict, capsule):
    spec = Spec(spec_dict)
    st = _State(spec, Host(capsule, spec))
    with counting.window():
        st.obj = _module.create(spec, st.host)
    return st


def train_step(st, step):
    with counting.window():
        r = _module.train_step(st.obj, step)
    if isinstance(r, dict):
        return (float(r["loss"]), float(r.get("grad_norm", -1.0)), float(r.get("clip_coef", -1.0)))
    if isinstance(r, tuple):
        loss, norm, coef = (tuple(r) + (-1.0, -1.0))[:3]
        return float(loss), float(norm), float(coef)
    return float(r), -1.0, -1.0


def _floats(mv, n):
    import numpy
    return numpy.frombuffer(mv, dtype=numpy.float32, count=n)


def get_params(st, mv):
    _module.get_params(st.obj, _floats(mv, st.spec.model.n_params))


def get_compute_params(st, mv):
    """The module fills `out` (float32 n_params, or for "bf16" its first
    n_params uint16 words via out.view(numpy.uint16)) and says which."""
    r = _module.get_compute_params(st.obj, _floats(mv, st.spec.model.n_params))
    return {"fp32": 0, "bf16": 1}[r]


def get_counters(st):
    f = getattr(_module, "get_counters", None)
    c = f(st.obj) if f else counting.measured()
    if not isinstance(c, Counters):
        raise TypeError(f"get_counters returned {type(c).__name__}, not dtbench.Counters")
    return c.as_tuple()


def measured():
    return counting.measured().as_tuple()


def get_facts(st):
    f = _module.get_facts(st.obj)
    if not isinstance(f, Facts):
        raise TypeError(f"get_facts returned {type(f).__name__}, not dtbench.Facts")
    return f.as_tuple()


def destroy(st):
    f = getattr(_module, "destroy", None)
    if f:
        f(st.obj)
    st.obj = None


def _warm_up_torch():
    """torch initialises lazily: the first backward, the first step of an
    optimizer (which imports torch._dynamo) and the first thread pool grow
    the process by ~100 MiB (torch 2.5) whatever the model. Doing it once
    here, before the harness takes the memory base at create, keeps that
    one-time cost out of what the module is judged on (docs/python.md)."""
    import torch
    import torch.nn.functional as F

    layer = torch.nn.Linear(3, 2)
    x = torch.ones(4, 3)
    y = torch.zeros(4, dtype=torch.long)
    for opt in (torch.optim.SGD(layer.parameters(), lr=0.0, momentum=0.9),
                torch.optim.AdamW(layer.parameters(), lr=0.0)):
        F.cross_entropy(F.gelu(layer(x), approximate="tanh"), y).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
