"""Memory accounting for torch implementations: the bytes of the tensors a
rank holds, by dtbench category, told to the harness as deltas."""

from .abi import MEM_GRADS, MEM_OPTIM, MEM_OTHER, MEM_PARAMS


def tensor_bytes(tensors):
    """Bytes of the distinct storages behind `tensors` (views counted once)."""
    seen, total = set(), 0
    for t in tensors:
        if t is None:
            continue
        storage = t.untyped_storage()
        key = storage.data_ptr()
        if key in seen or storage.nbytes() == 0:
            continue
        seen.add(key)
        total += storage.nbytes()
    return total


def optimizer_state_tensors(optimizer, scalars=False):
    """The per-element tensors in a torch.optim optimizer's state
    (ZeroRedundancyOptimizer: its local shard's optimizer); with scalars,
    the 0-dimensional ones instead (AdamW's step counts: bookkeeping, not
    the K bytes per element of the stage formulas)."""
    inner = getattr(optimizer, "optim", optimizer)
    out = []
    for state in inner.state.values():
        out += [v for v in state.values()
                if hasattr(v, "untyped_storage") and (v.dim() == 0) == scalars]
    return out


class Tracker:
    """Keeps the harness's categories equal to what is measured now."""

    def __init__(self, host):
        self.host = host
        self.now = {}

    def set(self, category, nbytes):
        delta = nbytes - self.now.get(category, 0)
        if delta:
            self.host.mem_track(category, delta)
        self.now[category] = nbytes

    def model_states(self, params, optimizer, compute=None, masters=False):
        """PARAMS, GRADS and OPTIM from the parameters' storages, their .grad
        and the optimizer's state. With `compute` (bf16-mixed: the bf16
        compute copies), PARAMS is those and the fp32 parameters count in
        OPTIM as masters, as the ABI's categories say; `masters`: the
        parameters are bf16-mixed's masters though no copy is held (a model
        that rounds on the fly)."""
        params = list(params)
        as_masters = masters or bool(compute)
        fp32 = tensor_bytes(params)
        self.set(MEM_PARAMS, tensor_bytes(compute or []) if as_masters else fp32)
        self.set(MEM_GRADS, tensor_bytes([p.grad for p in params]))
        self.set(MEM_OPTIM, tensor_bytes(optimizer_state_tensors(optimizer)) +
                 (fp32 if as_masters else 0))
        self.set(MEM_OTHER, tensor_bytes(optimizer_state_tensors(optimizer, scalars=True)))
