"""A minimal data-parallel implementation in Python, for dtbench's bridge.

Run it:   dtbench run --suite ddp --impl examples/python/allreduce_ddp.py

Every rank builds docs/model-spec.md's MLP with the harness's initial
values, takes its share of each micro-batch from the harness, accumulates
the gradient of its samples' summed loss scaled by 1/B (B the global
batch), and sums the flat gradient over the ranks with ONE all_reduce per
step: the sum is exactly the gradient of the mean loss over the global
batch. Then global-norm clipping and torch.optim's SGD or AdamW, weight
decay only on the tensors the model flags for it. No DistributedDataParallel:
the point is the module API (docs/python.md), which mirrors the C ABI.
"""

import torch
import torch.distributed as dist
import torch.nn.functional as F

import dtbench
from dtbench import torch_dist, torch_mlp
from dtbench.torch_memory import Tracker

NAME = "example-allreduce-ddp"
VERSION = "1.0"
DESCRIPTION = "minimal Python DDP: one all_reduce of the flat gradient per step"
CAPS = ["ddp", "fp32", "sgd-momentum", "adamw", "grad-clip", "grad-accum", "uneven-batch",
        "model-mlp", "cpu"]


class State:
    pass


def create(spec, host):
    if spec.stage != dtbench.STAGE_DDP or spec.precision != dtbench.PREC_FP32:
        raise ValueError("this example runs DDP in fp32 only")
    if spec.world_size > 1:  # one rank communicates nothing: no group needed
        torch_dist.init_process_group(spec)
    s = State()
    s.spec, s.host = spec, host
    s.model = torch_mlp.build(spec, host)  # init_params fills every tensor
    s.params = torch_mlp.canonical_params(s.model)
    s.batches = torch_mlp.Batches(spec, host)  # this rank's share of each micro-batch
    opt_class, opt_kwargs = torch_mlp.optimizer_class(spec)
    s.opt = opt_class(torch_mlp.param_groups(spec, s.params), **opt_kwargs)
    s.flat = torch.zeros(spec.model.n_params)  # the reduced gradient
    s.memory = Tracker(host)
    s.memory.model_states(s.params, s.opt)
    host.mem_track(dtbench.MEM_COMM, s.flat.numel() * 4)
    return s


def train_step(s, step):
    spec = s.spec
    loss_sum = torch.zeros((), dtype=torch.float64)
    for x, y in s.batches(step):
        per_sample = F.cross_entropy(s.model(x), y, reduction="none")
        (per_sample.sum() / spec.global_batch).backward()  # accumulates into .grad
        loss_sum += per_sample.detach().double().sum()
    torch.cat([p.grad.reshape(-1) for p in s.params], out=s.flat)
    if spec.world_size > 1:
        dist.all_reduce(s.flat)  # the sum over ranks: the mean-loss gradient
        dist.all_reduce(loss_sum)
    norm = float(torch.linalg.vector_norm(s.flat))
    coef = min(1.0, spec.clip_norm / (norm + 1e-6)) if spec.clip_norm > 0 else 1.0
    at = 0
    for p in s.params:
        p.grad.copy_(s.flat[at:at + p.numel()].view_as(p)).mul_(coef)
        at += p.numel()
    s.opt.step()
    s.memory.model_states(s.params, s.opt)
    s.opt.zero_grad(set_to_none=False)  # the gradients stay allocated: GRADS
    return float(loss_sum) / spec.global_batch, norm, coef


def get_params(s, out):
    torch_mlp.copy_flat(s.params, out)


def get_facts(s):
    return dtbench.Facts(stage=dtbench.STAGE_DDP, precision=dtbench.PREC_FP32,
                         bucket_bytes=s.spec.model.n_params * 4)


def destroy(s):
    torch_dist.destroy_process_group()


