"""PyTorch DistributedDataParallel as a dtbench implementation.

The idiomatic PyTorch loop: the MLP wrapped in DDP (gloo on the CPU, NCCL
on a GPU, default 25 MiB buckets), no_sync() for all but the last
micro-batch, torch.nn.utils.clip_grad_norm_, torch.optim.SGD or AdamW.
Each rank's summed loss is scaled by N/B (dtbench.torch_mlp.loss_weight):
DDP's average over ranks then is the gradient of the global mean loss.
bf16-mixed is dtbench's recipe (torch_mlp.MLP: fp32 masters, bf16 compute
copies, fp32 activations and gradients). One rank runs the bare module:
DDP would still issue its allreduces. torch_ddp_mean.py is the same loop
with PyTorch's usual per-rank mean.
"""

import torch

import dtbench
from dtbench import torch_dist, torch_mlp
from dtbench.torch_peer import destroy, get_compute_params, get_params, peer_state, train_step  # noqa: F401
from dtbench.torch_peer import facts

NAME = "torch-ddp"
VERSION = f"torch {torch.__version__}"
DESCRIPTION = "PyTorch DistributedDataParallel + torch.optim (Python bridge)"
CAPS = ["ddp", "fp32", "bf16-mixed", "sgd-momentum", "adamw", "grad-clip", "grad-accum",
        "uneven-batch", "model-mlp", "cpu"]
MEAN_OVER_RANK = False


def create(spec, host):
    if spec.stage != dtbench.STAGE_DDP:
        raise ValueError(f"{NAME} runs DDP only (asked stage {spec.stage})")
    torch_dist.init_process_group(spec)
    module = torch_mlp.build(spec, host)
    model, no_sync = module, None
    if spec.world_size > 1:
        kwargs = {}
        if spec.bucket_bytes > 0:
            kwargs["bucket_cap_mb"] = spec.bucket_bytes / (1024 * 1024)
        model = torch.nn.parallel.DistributedDataParallel(module, **kwargs)
        no_sync = model.no_sync
    opt_class, opt_kwargs = torch_mlp.optimizer_class(spec)
    opt = opt_class(torch_mlp.param_groups(spec, torch_mlp.canonical_params(module)), **opt_kwargs)
    return peer_state(spec, host, module, model, opt, no_sync=no_sync,
                      mean_over_rank=MEAN_OVER_RANK)


def get_facts(s):
    bucket = int(s.model.bucket_bytes_cap) if s.spec.world_size > 1 else 0
    return facts(s, dtbench.STAGE_DDP, bucket)
