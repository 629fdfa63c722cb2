"""A one-rank NumPy 'implementation' that uses the host API and then
raises in train_step at step 2 (mode "step"), or misuses the host API in
create (mode "host": a buffer too small for init_params), or returns a
dict from get_facts (mode "facts"). The mode is the module's file name
suffix: raises.py is "step"; the test copies it to raises_host.py and
raises_facts.py."""
import os

import numpy

import dtbench

MODE = {"raises": "step", "raises_host": "host", "raises_facts": "facts"}[
    os.path.splitext(os.path.basename(__file__))[0]]
NAME, VERSION, DESCRIPTION = f"t-raises-{MODE}", "1", "fails on purpose"
CAPS = ["ddp", "fp32", "sgd-momentum", "adamw", "grad-clip", "grad-accum", "uneven-batch",
        "model-mlp", "cpu"]


class State:
    pass


def create(spec, host):
    s = State()
    s.spec = spec
    s.params = numpy.empty(spec.model.n_params, dtype=numpy.float32)
    for t in spec.model.tensors:
        size = 2 if MODE == "host" else t.numel
        host.init_params(t, s.params[t.offset:t.offset + size])
    x = numpy.empty((spec.global_batch, spec.model.dims[0]), dtype=numpy.float32)
    y = numpy.empty(spec.global_batch, dtype=numpy.int32)
    host.sample_batch(1, 0, spec.global_batch, x, y)
    if not (numpy.abs(x) <= 1).all() or not ((0 <= y) & (y < spec.model.dims[-1])).all():
        raise AssertionError("the host's samples are out of the spec's ranges")
    return s


def train_step(s, step):
    if MODE == "step" and step == 2:
        raise ValueError("deliberate failure at step 2")
    return 1.0


def get_params(s, out):
    out[:] = s.params


def get_facts(s):
    if MODE == "facts":
        return {"stage": dtbench.STAGE_DDP}
    return dtbench.Facts(stage=dtbench.STAGE_DDP, precision=dtbench.PREC_FP32)
