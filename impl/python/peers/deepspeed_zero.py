"""DeepSpeed ZeRO stages 1, 2 and 3 (CPU, gloo) as a dtbench implementation.

deepspeed.initialize wraps the MLP with the spec's stage; the optimizer is
torch.optim's (zero_allow_untested_optimizer: DeepSpeed's own optimizers
JIT-compile C++ ops), with weight decay only on the flagged tensors.
DeepSpeed runs on dtbench's counting default group (initialised first), so
every collective it issues is counted. It accumulates the M micro-batches
itself (gradient_accumulation_steps = M; the batch sizes in the config are
bookkeeping, the shares come from dtbench's Batches and may be uneven or
empty), averages over the N ranks, computes the global pre-clip norm and
clips (gradient_clipping = spec.clip_norm, 0 = off: DeepSpeed's default is
1.0). Stage 3 partitions every parameter (persistence threshold 0) and
prefetches by an element budget over whole parameters, not by layers:
depth 0 is a budget of 0; depth 1 (also the default) a budget of one
element, which gathers the next layer's weight ahead and its bias on use.
One rank runs the bare MLP and torch.optim: DeepSpeed reduces gradients and
norms through the group even then, and a world of one issues no collective.

DeepSpeed keeps an fp32 master partition even in fp32 (a clone of the
parameter partition), counted under OPTIM with the optimizer state: its
model states exceed the ZeRO formulas by 4 bytes per element of the shard.

bf16-mixed is dtbench's recipe (docs/zero.md), run with DeepSpeed's fp32
engine: its parameters are fp32 and the MLP rounds them to bf16 in the
forward (torch_mlp.MLP's round_on_the_fly), so activations and gradients
stay fp32 and the master partition is the fp32 one. DeepSpeed's own
"bf16" mode is another recipe (bf16 activations and parameter gradients).
This way its parameters stay 4 bytes per element (counted under PARAMS)
and stage 3 gathers fp32, twice the recipe's bf16 bytes.
"""

import contextlib
import math
import os

import torch
import torch.nn.functional as F

# DeepSpeed's Muon module torch.compile-decorates at import, which imports
# inductor, which warms a pool of compile workers by running sys.executable:
# empty inside dtbench's embedded interpreter. Nothing here is compiled.
os.environ.setdefault("TORCH_WARM_POOL", "0")
import deepspeed  # noqa: E402
import deepspeed.ops  # noqa: E402
# Imported by deepspeed.initialize otherwise, inside create: code, not
# training state, that the harness would see as untracked growth.
import deepspeed.runtime.zero.muon.muon_optimizer  # noqa: E402,F401
import deepspeed.runtime.zero.stage3  # noqa: E402,F401
import deepspeed.runtime.zero.stage_1_and_2  # noqa: E402,F401

import dtbench
from dtbench import torch_dist, torch_mlp
from dtbench.torch_memory import Tracker, optimizer_state_tensors, tensor_bytes

NAME = "deepspeed-zero"
VERSION = f"deepspeed {deepspeed.__version__}, torch {torch.__version__}"
DESCRIPTION = "DeepSpeed ZeRO stages 1-3 on the CPU with gloo (Python bridge)"
CAPS = ["zero1", "zero2", "zero3", "fp32", "bf16-mixed", "sgd-momentum", "adamw", "grad-clip", "grad-accum",
        "uneven-batch", "model-mlp", "cpu"]

STAGE = {dtbench.STAGE_ZERO1: 1, dtbench.STAGE_ZERO2: 2, dtbench.STAGE_ZERO3: 3}


class State:
    pass


def create(spec, host):
    if spec.stage not in STAGE:
        raise ValueError(f"{NAME} runs ZeRO-1, -2 or -3 only (asked stage {spec.stage})")
    if spec.device_kind != 0:
        raise ValueError(f"{NAME} runs on the CPU only")
    s = State()
    s.spec = spec
    s.stage = STAGE[spec.stage]
    module = torch_mlp.build(spec, host, round_on_the_fly=True)
    zero = {"stage": s.stage}
    if s.stage == 3:
        s.prefetch = 0 if spec.prefetch_depth == 0 else 1
        if spec.prefetch_depth > 1:
            raise ValueError(f"{NAME} prefetches at most one layer ahead (asked {spec.prefetch_depth})")
        # DeepSpeed prefetches whole parameters in trace order until an
        # element budget is reached, never by layers: a budget of one element
        # gathers the next parameter (the next layer's weight) ahead.
        zero.update(stage3_param_persistence_threshold=0,
                    stage3_prefetch_bucket_size=1 if s.prefetch else 0)
    # Gradient reduction buckets: the spec's, else one layer's gradient
    # (DeepSpeed's default, 5e8 elements, is allocated whole by stage 3).
    layer = max(t.numel for t in spec.model.tensors[0::2]) + max(t.numel for t in spec.model.tensors[1::2])
    s.bucket = max(1, spec.bucket_bytes // 4) if spec.bucket_bytes > 0 else layer
    zero["reduce_bucket_size"] = s.bucket
    config = {
        "train_micro_batch_size_per_gpu": 1,
        "gradient_accumulation_steps": spec.micro_batches,
        "train_batch_size": spec.micro_batches * spec.world_size,
        "gradient_clipping": float(spec.clip_norm) if spec.clip_norm > 0 else 0.0,
        "zero_optimization": zero,
        "zero_allow_untested_optimizer": True,
        "fp16": {"enabled": False},
        "bf16": {"enabled": False},
        "steps_per_print": 1 << 30,
        "wall_clock_breakdown": False,
    }
    torch_dist.init_process_group(spec)
    params = torch_mlp.canonical_params(module)
    opt_class, opt_kwargs = torch_mlp.optimizer_class(spec)
    s.opt = opt_class(torch_mlp.param_groups(spec, params), **opt_kwargs)
    s.memory = Tracker(host)
    if spec.world_size == 1:
        # DeepSpeed reduces gradients and norms through the group even at
        # one rank; a world of one must issue no collective: the bare MLP.
        s.engine, s.module, s.params = None, module, params
        s.trainer = torch_mlp.Trainer(spec, host, module, params, s.opt)
        s.memory.model_states(params, s.opt, masters=module.bf16)
        s.padding = 0
        return s
    # The CPU accelerator's shared-memory op serves inference only; enabled,
    # init_distributed would JIT-compile it.
    deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    deepspeed.init_distributed(dist_backend="gloo")  # finds dtbench's default group
    s.engine, _, _, _ = deepspeed.initialize(model=module, optimizer=s.opt, config=config)
    s.module = s.engine.module
    s.params = torch_mlp.canonical_params(s.module)
    s.batches = torch_mlp.Batches(spec, host)
    s.weight = torch_mlp.loss_weight(spec, mean_over_rank=False)
    # Measured inside DeepSpeed's step, after the torch optimizer's update:
    # the fp32 gradient partition and the optimizer state both exist then.
    s.opt.register_step_post_hook(lambda *_: measure(s))
    measure(s)
    s.padding = padding_bytes(s)
    return s


def padding_bytes(s):
    """What DeepSpeed's partition padding costs this rank beyond Ψ/N.
    Stages 1-2 pad each param group's flat buffer to a multiple of 2·N
    elements (full-size parameters, then equal shards); stage 3 pads each
    parameter to a multiple of N. Every shard-sized buffer follows the shard:
    gradient, fp32 master and optimizer state."""
    z, n = s.engine.optimizer, s.spec.world_size
    psi = s.spec.model.n_params
    if s.stage < 3:
        full = sum(f.numel() for f in z.bit16_groups_flat)
        shard = full / n
    else:
        full = psi
        shard = sum(p.ds_tensor.ds_numel for p in s.params)
    per_element = 4 + 4 + (8 if s.spec.optimizer == dtbench.OPT_ADAMW else 4)
    return max(0, math.ceil(4 * (full - psi) + per_element * (shard - psi / n)))


def zero_buffers(s):
    """(PARAMS, GRADS, OPTIM, COMM) tensors DeepSpeed's ZeRO optimizer holds now."""
    z = s.engine.optimizer
    params, grads, optim, comm = [], [], [], []
    grads += [p.grad for p in s.params]
    if s.stage < 3:
        params += list(z.bit16_groups_flat)
        grads.append(getattr(z, "grads_in_partition", None))
        for g in list(z.averaged_gradients.values()) + list(z.all_grad_tensors.values()):
            grads += g if isinstance(g, (list, tuple)) else [g]
        masters = list(z.single_partition_of_fp32_groups)
        for bucket in z.ipg_buckets.values():
            comm += list(bucket.buffer)
    else:
        params += list(z.fp16_partitioned_groups_flat)
        # Gathered full parameters (held between their fetch and release).
        params += [p.data for p in s.params if p.data.numel() > 0]
        grads.append(z.grad_partitions_flat_buffer)
        masters = list(z.fp32_partitioned_groups_flat)
        comm += [b.buffer for b in z.ipg_buckets.values()]
    grads += [m.grad for m in masters]
    optim += masters + optimizer_state_tensors(s.opt)
    return params, grads, optim, comm


def measure(s):
    params, grads, optim, comm = zero_buffers(s)
    s.memory.set(dtbench.MEM_PARAMS, tensor_bytes(params))
    s.memory.set(dtbench.MEM_GRADS, tensor_bytes(grads))
    s.memory.set(dtbench.MEM_OPTIM, tensor_bytes(optim))
    s.memory.set(dtbench.MEM_COMM, tensor_bytes(comm))
    s.memory.set(dtbench.MEM_OTHER, tensor_bytes(optimizer_state_tensors(s.opt, scalars=True)))


def train_step(s, step):
    spec = s.spec
    if s.engine is None:
        return s.trainer.step(step, measure=lambda: s.memory.model_states(
            s.params, s.opt, masters=s.module.bf16))
    loss_sum = torch.zeros((), dtype=torch.float64)
    for x, y in s.batches(step):
        per_sample = F.cross_entropy(s.engine(x), y, reduction="none")
        loss_sum += per_sample.detach().to(torch.float64).sum()
        # N/B on the summed loss, DeepSpeed's average over N: the mean
        # loss's gradient; scale_wrt_gas=False, the weight already covers M.
        s.engine.backward(per_sample.sum() * s.weight, scale_wrt_gas=False)
        measure(s)
        s.engine.step()  # the optimizer steps after the M-th micro-batch only
    if spec.world_size > 1:
        torch.distributed.all_reduce(loss_sum)
    norm = float(s.engine.get_global_grad_norm())
    coef = min(1.0, spec.clip_norm / (norm + 1e-6)) if spec.clip_norm > 0 else 1.0
    measure(s)
    return float(loss_sum) / spec.global_batch, norm, coef


def full_params(s):
    """A context in which s.params are the full parameters."""
    if s.engine is None or s.stage < 3:
        return contextlib.nullcontext()
    return deepspeed.zero.GatheredParameters(s.params)


def get_params(s, out):
    with full_params(s):
        torch_mlp.copy_flat(s.params, out)


def get_compute_params(s, out):
    with full_params(s):
        return torch_mlp.copy_compute(s.module, out, s.params)


def get_facts(s):
    return dtbench.Facts(stage=s.spec.stage, precision=s.spec.precision,
                         param_dtype=dtbench.DTYPE_BF16 if s.module.bf16 else dtbench.DTYPE_FP32,
                         bucket_bytes=4 * s.bucket if s.engine is not None else 0,
                         prefetch_depth=s.prefetch if s.stage == 3 else -1,
                         mem_padding_bytes=s.padding)


def destroy(s):
    torch_dist.destroy_process_group()
