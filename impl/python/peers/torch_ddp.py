"""PyTorch DistributedDataParallel as a dtbench implementation.

The idiomatic PyTorch loop: the MLP wrapped in DDP (gloo on the CPU, NCCL
on a GPU, default 25 MiB buckets), no_sync() for all but the last
micro-batch, torch.nn.utils.clip_grad_norm_, torch.optim.SGD or AdamW.
Each rank's summed loss is scaled by N/B (dtbench.torch_mlp.loss_weight):
DDP's average over ranks then is the gradient of the global mean loss.
torch_ddp_mean.py is the same loop with PyTorch's usual per-rank mean.
"""

import torch

import dtbench
from dtbench import torch_dist, torch_mlp
from dtbench.torch_memory import Tracker

NAME = "torch-ddp"
VERSION = f"torch {torch.__version__}"
DESCRIPTION = "PyTorch DistributedDataParallel + torch.optim (Python bridge)"
CAPS = ["ddp", "fp32", "bf16-mixed", "sgd-momentum", "adamw", "grad-clip", "grad-accum", "uneven-batch",
        "model-mlp", "cpu"]
MEAN_OVER_RANK = False


class State:
    pass


def create(spec, host):
    if spec.stage != dtbench.STAGE_DDP:
        raise ValueError(f"{NAME} runs DDP only (asked stage {spec.stage})")
    torch_dist.init_process_group(spec)
    s = State()
    s.spec = spec
    s.module = torch_mlp.build(spec, host)
    s.params = torch_mlp.canonical_params(s.module)
    kwargs = {}
    if spec.bucket_bytes > 0:
        kwargs["bucket_cap_mb"] = spec.bucket_bytes / (1024 * 1024)
    # One rank has nothing to average: DDP would still issue its allreduces.
    s.model = (torch.nn.parallel.DistributedDataParallel(s.module, **kwargs)
               if spec.world_size > 1 else s.module)
    opt_class, opt_kwargs = torch_mlp.optimizer_class(spec)
    s.opt = opt_class(torch_mlp.param_groups(spec, s.params), **opt_kwargs)
    s.trainer = torch_mlp.Trainer(
        spec, host, s.model, s.params, s.opt,
        no_sync=s.model.no_sync if spec.world_size > 1 else None,
        mean_over_rank=MEAN_OVER_RANK)
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
    bucket = 0
    if s.spec.world_size > 1:
        bucket = int(s.model.bucket_bytes_cap)
    return dtbench.Facts(stage=dtbench.STAGE_DDP, precision=s.spec.precision,
                         param_dtype=dtbench.DTYPE_BF16 if s.module.bf16 else dtbench.DTYPE_FP32,
                         bucket_bytes=bucket)


def destroy(s):
    torch_dist.destroy_process_group()
