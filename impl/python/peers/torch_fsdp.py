"""PyTorch FullyShardedDataParallel (FSDP1) as a dtbench implementation of
ZeRO-2 (ShardingStrategy.SHARD_GRAD_OP) and ZeRO-3 (FULL_SHARD).

Each Linear layer is its own FSDP unit (ModuleWrapPolicy), the whole MLP
the root unit; use_orig_params keeps the canonical tensors addressable for
the per-tensor weight decay. Gradients are reduce-scattered after every
micro-batch's backward (no no_sync: that would keep unsharded gradients)
and accumulated in the shards; FSDP's own clip_grad_norm_ computes the
global norm over the shards. On the CPU FSDP needs device_id=cpu and gloo,
which torch 2.5 supports; FSDP2's fully_shard needs CUDA streams there.

bf16-mixed is dtbench's recipe (docs/zero.md): FSDP's flat parameters are
the fp32 masters and the MLP rounds what FSDP gathers to bf16 in the
forward (torch_mlp.MLP's round_on_the_fly), so activations and gradients
stay fp32. FSDP's own MixedPrecision(param_dtype=bfloat16) is another
recipe: it computes activations and the parameters' gradients in bf16.
Its all-gathers therefore carry fp32, twice the recipe's bf16 bytes.
"""

import contextlib
import math

import torch
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp import BackwardPrefetch, ShardingStrategy
from torch.distributed.fsdp.wrap import ModuleWrapPolicy

import dtbench
from dtbench import torch_dist, torch_mlp
from dtbench.torch_memory import Tracker

NAME = "torch-fsdp"
VERSION = f"torch {torch.__version__}"
DESCRIPTION = "PyTorch FSDP: SHARD_GRAD_OP as ZeRO-2, FULL_SHARD as ZeRO-3 (Python bridge)"
CAPS = ["zero2", "zero3", "fp32", "bf16-mixed", "sgd-momentum", "adamw", "grad-clip", "grad-accum",
        "uneven-batch", "model-mlp", "cpu"]

STRATEGY = {dtbench.STAGE_ZERO2: ShardingStrategy.SHARD_GRAD_OP,
            dtbench.STAGE_ZERO3: ShardingStrategy.FULL_SHARD}


class State:
    pass


def create(spec, host):
    if spec.stage not in STRATEGY:
        raise ValueError(f"{NAME} runs ZeRO-2 or ZeRO-3 only (asked stage {spec.stage})")
    if spec.prefetch_depth > 1:
        raise ValueError(f"FSDP prefetches at most one unit ahead (asked {spec.prefetch_depth})")
    torch_dist.init_process_group(spec)
    s = State()
    s.spec = spec
    module = torch_mlp.build(spec, host, round_on_the_fly=True)
    s.sharded = spec.world_size > 1  # one rank: nothing to shard, no collectives
    # Prefetch depth 1 (FSDP's default, -1 asked): the next unit's all-gather
    # is issued before the current one's backward (and forward) computes.
    s.prefetch = 0 if spec.prefetch_depth == 0 else 1
    if s.sharded:
        device = (torch.device("cuda", spec.device_index) if spec.device_kind == 1
                  else torch.device("cpu"))
        s.model = FSDP(module, sharding_strategy=STRATEGY[spec.stage],
                       auto_wrap_policy=ModuleWrapPolicy({torch.nn.Linear}),
                       device_id=device, use_orig_params=True, sync_module_states=False,
                       backward_prefetch=BackwardPrefetch.BACKWARD_PRE if s.prefetch else None,
                       forward_prefetch=bool(s.prefetch))
        s.module = s.model.module
        clip = s.model.clip_grad_norm_
    else:
        s.model = s.module = module
        clip = None
    s.params = torch_mlp.canonical_params(s.module)
    opt_class, opt_kwargs = torch_mlp.optimizer_class(spec)
    s.opt = opt_class(torch_mlp.param_groups(spec, s.params), **opt_kwargs)
    s.trainer = torch_mlp.Trainer(spec, host, s.model, s.params, s.opt, clip=clip)
    s.memory = Tracker(host)
    measure(s)
    s.padding = padding_bytes(s) if s.sharded else 0
    return s


def padding_bytes(s):
    """What the padding of FSDP's flat parameters costs this rank beyond
    Ψ/N: each unit's flat parameter is padded so that N divides it (and, with
    use_orig_params, aligned between tensors), every rank's shard then has
    the padded size, and its gradient and optimizer state follow the shard."""
    flat = sum(unit._handle.flat_param.numel() for unit in FSDP.fsdp_modules(s.model)
               if unit._handle is not None)
    excess = flat - s.spec.model.n_params / s.spec.world_size
    per_element = 4 + 4 + (8 if s.spec.optimizer == dtbench.OPT_ADAMW else 4)
    return max(0, math.ceil(excess * per_element))


def measure(s):
    s.memory.model_states(s.model.parameters(), s.opt, masters=s.module.bf16)


def train_step(s, step):
    return s.trainer.step(step, measure=lambda: measure(s))


def full_params(s):
    """A context in which canonical_params(s.module) are the full parameters."""
    if not s.sharded:
        return contextlib.nullcontext()
    return FSDP.summon_full_params(s.model, writeback=False)


def get_params(s, out):
    with full_params(s):
        torch_mlp.copy_flat(torch_mlp.canonical_params(s.module), out)


def get_compute_params(s, out):
    with full_params(s):
        return torch_mlp.copy_compute(s.module, out)


def get_facts(s):
    return dtbench.Facts(stage=s.spec.stage, precision=s.spec.precision,
                         param_dtype=dtbench.DTYPE_BF16 if s.module.bf16 else dtbench.DTYPE_FP32,
                         prefetch_depth=s.prefetch if s.spec.stage == dtbench.STAGE_ZERO3 else -1,
                         mem_padding_bytes=s.padding)


def destroy(s):
    torch_dist.destroy_process_group()
