"""What the torch peers built on torch_mlp share after create: the life
cycle functions a module re-exports (train_step, get_params,
get_compute_params, destroy) over a PeerState, and the facts they report.
Each peer's create builds the state with peer_state() and its own wrapping."""

from . import torch_dist, torch_mlp
from .abi import DTYPE_BF16, DTYPE_FP32, Facts
from .torch_memory import Tracker


class PeerState:
    """module: the bare MLP (its bf16 compute copies, if any); model: what
    the forward runs (DDP, FSDP, or the module); params: the canonical
    parameters; opt: the optimizer; trainer: torch_mlp.Trainer; memory:
    the tracker, fed by measure()."""

    def measure(self):
        self.memory.model_states(self.params, self.opt, self.module.compute)


def peer_state(spec, host, module, model, opt, **trainer_options):
    """The state of a peer whose model states are the canonical parameters,
    their .grad and the optimizer's state (DDP, ZeroRedundancyOptimizer)."""
    s = PeerState()
    s.spec, s.module, s.model, s.opt = spec, module, model, opt
    s.params = torch_mlp.canonical_params(module)
    s.trainer = torch_mlp.Trainer(spec, host, model, s.params, opt, **trainer_options)
    s.memory = Tracker(host)
    s.measure()
    return s


def train_step(s, step):
    return s.trainer.step(step, measure=s.measure)


def get_params(s, out):
    torch_mlp.copy_flat(s.params, out)


def get_compute_params(s, out):
    return torch_mlp.copy_compute(s.module, out)


def facts(s, stage, bucket_bytes=0):
    return Facts(stage=stage, precision=s.spec.precision,
                 param_dtype=DTYPE_BF16 if s.module.bf16 else DTYPE_FP32,
                 bucket_bytes=bucket_bytes)


def destroy(s):
    torch_dist.destroy_process_group()
