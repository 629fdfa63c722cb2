"""The ABI's constants and small records, as include/dtbench/plugin.h defines them."""

from dataclasses import dataclass, field

STAGE_SINGLE, STAGE_DDP, STAGE_ZERO1, STAGE_ZERO2, STAGE_ZERO3 = 0, 1, 2, 3, 4
PREC_FP32, PREC_BF16_MIXED = 0, 1
DTYPE_FP32, DTYPE_BF16, DTYPE_FP64 = 0, 1, 2
OPT_SGD_MOMENTUM, OPT_ADAMW = 0, 1
MODEL_MLP, MODEL_GPT = 1, 2
TENSOR_DECAY, TENSOR_TIED = 1 << 0, 1 << 1
MEM_PARAMS, MEM_GRADS, MEM_OPTIM, MEM_ACTIVATIONS, MEM_COMM, MEM_OTHER = range(6)

# dtb_counters' kinds, in index order.
COLLECTIVES = ("allreduce", "reduce_scatter", "allgather", "broadcast", "reduce", "barrier", "p2p")

# Capability names (dtbench list's) -> DTB_CAP_* bits.
CAPS = {
    "single-device": 1 << 0,
    "ddp": 1 << 1,
    "zero1": 1 << 2,
    "zero2": 1 << 3,
    "zero3": 1 << 4,
    "fp32": 1 << 8,
    "bf16-mixed": 1 << 9,
    "sgd-momentum": 1 << 16,
    "adamw": 1 << 17,
    "grad-clip": 1 << 18,
    "grad-accum": 1 << 19,
    "uneven-batch": 1 << 20,
    "checkpoint": 1 << 21,
    "model-mlp": 1 << 24,
    "model-gpt": 1 << 25,
    "cpu": 1 << 32,
    "cuda": 1 << 33,
}


def split_range(total, parts, p):
    """Part p of `total` items split in `parts` (docs/model-spec.md, section 6)."""
    return (p * total) // parts, ((p + 1) * total) // parts


@dataclass
class Facts:
    """What the implementation actually ran (dtb_facts)."""

    stage: int
    precision: int
    reduce_dtype: int = DTYPE_FP32
    param_dtype: int = DTYPE_FP32
    bucket_bytes: int = 0
    prefetch_depth: int = -1
    mem_padding_bytes: int = 0
    mem_working_bytes: int = 0

    def as_tuple(self):
        return (int(self.stage), int(self.precision), int(self.reduce_dtype),
                int(self.param_dtype), int(self.bucket_bytes), int(self.prefetch_depth),
                int(self.mem_padding_bytes), int(self.mem_working_bytes))


@dataclass
class Counters:
    """Calls and nccl-tests sizes per collective kind (dtb_counters)."""

    calls: list = field(default_factory=lambda: [0] * len(COLLECTIVES))
    bytes: list = field(default_factory=lambda: [0] * len(COLLECTIVES))

    def add(self, kind, nbytes, calls=1):
        k = COLLECTIVES.index(kind)
        self.calls[k] += calls
        self.bytes[k] += int(nbytes)

    def as_tuple(self):
        return (tuple(int(c) for c in self.calls), tuple(int(b) for b in self.bytes))
