"""dtbench's Python side of the plugin ABI (docs/python.md).

A Python implementation is a module that dtbench runs through its Python
bridge (`dtbench run --impl py:NAME` or `--impl path/to/module.py`). It
defines the ABI's life cycle as module-level functions, with the same
meaning as the C functions of include/dtbench/plugin.h:

    NAME, VERSION, DESCRIPTION      strings
    CAPS                            capability names, as `dtbench list` prints them
    create(spec, host) -> state     spec: Spec; host: Host
    train_step(state, step) -> loss, or (loss, grad_norm, clip_coef)
    get_params(state, out)          out: float32 NumPy array of n_params, filled in place
    get_facts(state) -> Facts
    get_counters(state) -> Counters (optional: else what the bridge counted)
    get_compute_params(state, out) -> "fp32" | "bf16" (optional)
    destroy(state)                  (optional)

This package gives them the constants, Spec, Host, Facts, Counters and
split_range; dtbench.torch_dist sets up torch.distributed for the rank
world through a counting process group.
"""

from .abi import (  # noqa: F401
    CAPS,
    COLLECTIVES,
    DTYPE_BF16,
    DTYPE_FP32,
    DTYPE_FP64,
    MEM_ACTIVATIONS,
    MEM_COMM,
    MEM_GRADS,
    MEM_OPTIM,
    MEM_OTHER,
    MEM_PARAMS,
    MODEL_GPT,
    MODEL_MLP,
    OPT_ADAMW,
    OPT_SGD_MOMENTUM,
    PREC_BF16_MIXED,
    PREC_FP32,
    STAGE_DDP,
    STAGE_SINGLE,
    STAGE_ZERO1,
    STAGE_ZERO2,
    STAGE_ZERO3,
    TENSOR_DECAY,
    TENSOR_TIED,
    Counters,
    Facts,
    split_range,
)
from .host import Host  # noqa: F401
from .spec import Spec, Tensor  # noqa: F401
