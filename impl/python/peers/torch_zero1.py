"""PyTorch DDP + ZeroRedundancyOptimizer (ZeRO-1) as a dtbench implementation.

DDP averages the gradients (allreduce); ZeroRedundancyOptimizer keeps the
optimizer state of its share of the parameters only, updates them and
broadcasts them to the other ranks. Its partition is by whole tensors
(greedy by size), not by elements: a legitimate ZeRO-1 that holds more
than K·Ψ/N optimizer bytes on a rank when a few tensors dominate, which
the memory check reports as such.
"""

import torch
from torch.distributed.optim import ZeroRedundancyOptimizer

import dtbench
from dtbench import torch_dist, torch_mlp
from dtbench.torch_memory import Tracker

NAME = "torch-zero1"
VERSION = f"torch {torch.__version__}"
DESCRIPTION = "PyTorch DDP + ZeroRedundancyOptimizer (ZeRO-1; Python bridge)"
CAPS = ["zero1", "fp32", "bf16-mixed", "sgd-momentum", "adamw", "grad-clip", "grad-accum", "uneven-batch",
        "model-mlp", "cpu"]


class State:
    pass


def create(spec, host):
    if spec.stage != dtbench.STAGE_ZERO1:
        raise ValueError(f"{NAME} runs ZeRO-1 only (asked stage {spec.stage})")
    torch_dist.init_process_group(spec)
    s = State()
    s.spec = spec
    s.module = torch_mlp.build(spec, host)
    s.params = torch_mlp.canonical_params(s.module)
    opt_class, opt_kwargs = torch_mlp.optimizer_class(spec)
    if spec.world_size > 1:
        kwargs = {}
        if spec.bucket_bytes > 0:
            kwargs["bucket_cap_mb"] = spec.bucket_bytes / (1024 * 1024)
        s.model = torch.nn.parallel.DistributedDataParallel(s.module, **kwargs)
        s.opt = ZeroRedundancyOptimizer(torch_mlp.param_groups(spec, s.params),
                                        optimizer_class=opt_class, **opt_kwargs)
        no_sync = s.model.no_sync
    else:  # one rank: nothing to shard or average
        s.model = s.module
        s.opt = opt_class(torch_mlp.param_groups(spec, s.params), **opt_kwargs)
        no_sync = None
    s.trainer = torch_mlp.Trainer(spec, host, s.model, s.params, s.opt, no_sync=no_sync)
    s.memory = Tracker(host)
    s.memory.model_states(s.params, s.opt, s.module.compute)
    return s


def train_step(s, step):
    return s.trainer.step(step, measure=lambda: s.memory.model_states(s.params, s.opt, s.module.compute))


def get_params(s, out):
    torch_mlp.copy_flat(s.params, out)


def get_compute_params(s, out):
    return torch_mlp.copy_compute(s.module, out)


def get_facts(s):
    bucket = int(s.model.bucket_bytes_cap) if s.spec.world_size > 1 else 0
    return dtbench.Facts(stage=dtbench.STAGE_ZERO1, precision=s.spec.precision,
                         param_dtype=dtbench.DTYPE_BF16 if s.module.bf16 else dtbench.DTYPE_FP32,
                         bucket_bytes=bucket)


def destroy(s):
    torch_dist.destroy_process_group()
