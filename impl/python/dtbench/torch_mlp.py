"""docs/model-spec.md's MLP in torch, for Python implementations.

build(spec, host) makes the model with the harness's initial values;
Batches gives this rank's share of each micro-batch; Trainer runs the
math every data-parallel scheme shares (the loss weighting the spec asks
for, accumulation, the global gradient norm, clipping, the optimizer with
weight decay only on the tensors flagged for it) around a scheme's own
wrapping and optimizer.
"""

import contextlib
import math

import numpy
import torch
import torch.distributed as dist
import torch.nn.functional as F

from .abi import MODEL_MLP, OPT_ADAMW, OPT_SGD_MOMENTUM, PREC_BF16_MIXED, TENSOR_DECAY, split_range


class _Widened(torch.autograd.Function):
    """The bf16-mixed recipe's compute parameter (docs/zero.md): the forward
    reads the bf16 copy widened to fp32 (exact), the gradient goes to the
    fp32 master unchanged, in fp32 (never rounded to bf16)."""

    @staticmethod
    def forward(ctx, master, compute):
        return compute.to(torch.float32)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Linear(torch.nn.Linear):
    """torch.nn.Linear that, under bf16-mixed, computes with bf16 copies of
    its fp32 parameters (the masters) widened to fp32: the copies held in
    `compute` (weight, bias), or rounded from the parameters in the forward
    with round_on_the_fly. A Linear subclass, so that wrappers that gather
    parameters around a module's forward (FSDP units, DeepSpeed stage 3)
    see it as one."""

    def __init__(self, n_in, n_out, bf16=False, round_on_the_fly=False):
        super().__init__(n_in, n_out)
        self.bf16 = bf16
        self.round_on_the_fly = bf16 and round_on_the_fly
        self.compute = None

    def forward(self, x):
        if not self.bf16:
            return super().forward(x)
        if self.round_on_the_fly:
            compute = (self.weight.detach().to(torch.bfloat16),
                       self.bias.detach().to(torch.bfloat16))
        else:
            compute = self.compute
        return F.linear(x, _Widened.apply(self.weight, compute[0]),
                        _Widened.apply(self.bias, compute[1]))


class MLP(torch.nn.Module):
    """Linear dims[0] -> ... -> dims[L], GELU (tanh) between: W_l is
    layers[l].weight, [out x in] row-major, as canonical.

    bf16: the parameters are the fp32 masters and the forward computes in
    fp32 with their bf16 copies (round to nearest even) widened; the
    gradients reach the masters in fp32. The copies are either held in
    `compute` (canonical order), refreshed by refresh_compute() after every
    optimizer step (DDP, ZeroRedundancyOptimizer), or, with
    round_on_the_fly, rounded from whatever the wrapper hands the forward
    (FSDP's and DeepSpeed's gathered fp32 parameters): the same numbers,
    since the masters change only in the optimizer step."""

    def __init__(self, dims, bf16=False, round_on_the_fly=False):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            Linear(dims[i], dims[i + 1], bf16, round_on_the_fly) for i in range(len(dims) - 1))
        self.bf16 = bf16
        self.round_on_the_fly = bf16 and round_on_the_fly
        self.compute = []

    @torch.no_grad()
    def refresh_compute(self):
        """compute = bf16(master) for every parameter, in canonical order."""
        if not self.bf16 or self.round_on_the_fly:
            return
        masters = canonical_params(self)
        if not self.compute:
            self.compute = [torch.empty_like(p, dtype=torch.bfloat16) for p in masters]
            for i, layer in enumerate(self.layers):
                layer.compute = (self.compute[2 * i], self.compute[2 * i + 1])
        for c, p in zip(self.compute, masters):
            c.copy_(p)

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = F.gelu(x, approximate="tanh")
        return x


def canonical_params(model):
    """The parameters in the canonical order W0, b0, W1, b1, ..."""
    out = []
    for layer in model.layers:
        out += [layer.weight, layer.bias]
    return out


def build(spec, host, round_on_the_fly=False):
    """The MLP with the harness's initial values (CPU): fp32, or fp32
    masters with their bf16 compute copies (held, or rounded in the
    forward with round_on_the_fly) under bf16-mixed."""
    if spec.model.kind != MODEL_MLP:
        raise ValueError(f"model {spec.model.name}: only the MLP family is implemented here")
    model = MLP(spec.model.dims, bf16=spec.precision == PREC_BF16_MIXED,
                round_on_the_fly=round_on_the_fly)
    with torch.no_grad():
        for p, t in zip(canonical_params(model), spec.model.tensors):
            host.init_params(t, p.view(-1))
    model.refresh_compute()
    return model


def copy_compute(model, out, params=None):
    """get_compute_params: the bf16 compute parameters' bits (bf16-mixed)
    or the fp32 parameters, canonical order, into `out` (float32
    n_params). `params`: the full canonical parameters when the wrapper
    holds them elsewhere (gathered by the caller); the held copies, or
    bf16(params) when the model rounds on the fly."""
    params = canonical_params(model) if params is None else params
    if not model.bf16:
        copy_flat(params, out)
        return "fp32"
    copies = model.compute if not model.round_on_the_fly else (
        p.detach().to(torch.bfloat16) for p in params)
    dst = torch.from_numpy(out.view(numpy.int16))
    at = 0
    for c in copies:
        n = c.numel()
        dst[at:at + n].copy_(c.reshape(-1).view(torch.int16))
        at += n
    return "bf16"


def param_groups(spec, params):
    """Weight decay only on the tensors flagged DTB_TENSOR_DECAY."""
    decay = [p for p, t in zip(params, spec.model.tensors) if t.flags & TENSOR_DECAY]
    rest = [p for p, t in zip(params, spec.model.tensors) if not t.flags & TENSOR_DECAY]
    groups = [{"params": decay, "weight_decay": spec.weight_decay}]
    if rest:
        groups.append({"params": rest, "weight_decay": 0.0})
    return groups


def optimizer_class(spec):
    """torch.optim's class and keyword arguments for the spec's optimizer."""
    if spec.optimizer == OPT_SGD_MOMENTUM:
        return torch.optim.SGD, {"lr": spec.lr, "momentum": spec.momentum}
    if spec.optimizer == OPT_ADAMW:
        return torch.optim.AdamW, {"lr": spec.lr, "betas": (spec.beta1, spec.beta2),
                                   "eps": spec.eps}
    raise ValueError(f"unknown optimizer {spec.optimizer}")


def copy_flat(params, out):
    """The parameters, concatenated in canonical order, into float32 `out`.
    Copies through a tensor over `out`: a NumPy view of a parameter would
    pin its storage, which FSDP frees when it reshards."""
    dst = torch.from_numpy(out)
    at = 0
    for p in params:
        n = p.numel()
        dst[at:at + n].copy_(p.detach().reshape(-1))
        at += n


class Batches:
    """This rank's share of each micro-batch of a step: micro-batch m is
    split_range(B, M, m), this rank takes split_range(count_m, N, rank)."""

    def __init__(self, spec, host):
        self.spec, self.host = spec, host
        self.d0 = spec.model.dims[0]

    def __call__(self, step):
        s = self.spec
        out = []
        for m in range(s.micro_batches):
            m0, m1 = split_range(s.global_batch, s.micro_batches, m)
            r0, r1 = split_range(m1 - m0, s.world_size, s.rank)
            n = r1 - r0
            x = numpy.empty((n, self.d0), dtype=numpy.float32)
            y = numpy.empty(n, dtype=numpy.int32)
            if n:
                self.host.sample_batch(step, m0 + r0, n, x, y)
            out.append((torch.from_numpy(x), torch.from_numpy(y).long()))
        return out


def loss_weight(spec, mean_over_rank):
    """What a rank's summed loss is multiplied by before backward.

    Data-parallel wrappers average gradients over the N ranks, so a rank's
    sum of sample losses times N/B makes the average exactly the gradient of
    the mean loss over the global batch (docs/model-spec.md, section 6),
    whatever the shares. PyTorch's usual per-rank mean (1/n_rank, then the
    average) weights samples unequally when N does not divide B:
    mean_over_rank reproduces it for the suites to catch."""
    if mean_over_rank:
        return None
    return spec.world_size / spec.global_batch


class Trainer:
    """One optimizer step of a data-parallel scheme.

    model: the wrapped module (DDP, FSDP, or the bare MLP at one rank);
    params: the parameters the norm and clipping see; no_sync: a context for
    the micro-batches that must not reduce (DDP's), or None; clip: a
    function (max_norm) -> pre-clip norm that clips in place (FSDP's own, or
    torch.nn.utils.clip_grad_norm_ over params)."""

    def __init__(self, spec, host, model, params, optimizer, no_sync=None, clip=None,
                 mean_over_rank=False):
        self.spec, self.model, self.params, self.opt = spec, model, params, optimizer
        self.mlp = getattr(model, "module", model)  # DDP's and FSDP's wrapped MLP
        self.batches = Batches(spec, host)
        self.no_sync = no_sync
        self.clip = clip or (lambda max_norm: torch.nn.utils.clip_grad_norm_(params, max_norm))
        self.weight = loss_weight(spec, mean_over_rank)

    def step(self, step, measure=None):
        """(loss, pre-clip norm, clip coefficient); measure() runs after the
        update, before the gradients are dropped: every model state exists."""
        s = self.spec
        micro = self.batches(step)
        loss_sum = torch.zeros((), dtype=torch.float64)
        for m, (x, y) in enumerate(micro):
            last = m + 1 == len(micro)
            ctx = self.no_sync() if (self.no_sync and not last) else contextlib.nullcontext()
            with ctx:
                logits = self.model(x)
                per_sample = F.cross_entropy(logits, y, reduction="none")
                loss_sum += per_sample.detach().to(torch.float64).sum()
                if self.weight is None:  # PyTorch's usual per-rank mean
                    loss = per_sample.mean() if len(y) else per_sample.sum()
                    loss = loss / s.micro_batches
                else:
                    loss = per_sample.sum() * self.weight
                loss.backward()
        if s.world_size > 1:
            dist.all_reduce(loss_sum)
        max_norm = s.clip_norm if s.clip_norm > 0 else math.inf
        norm = float(self.clip(max_norm))
        coef = min(1.0, s.clip_norm / (norm + 1e-6)) if s.clip_norm > 0 else 1.0
        self.opt.step()
        self.mlp.refresh_compute()  # bf16-mixed: the compute copies follow the masters
        if measure:
            measure()
        self.opt.zero_grad(set_to_none=True)
        return float(loss_sum) / s.global_batch, norm, coef

