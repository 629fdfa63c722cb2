"""The run spec a module's create() gets: dtb_run_spec with its model."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Tensor:
    """One entry of the model's tensor table (dtb_tensor_desc)."""

    index: int
    name: str
    shape: tuple
    numel: int
    offset: int
    layer: int
    flags: int


class Spec:
    """Every field of dtb_run_spec by its C name (spec.lr, spec.world_size,
    spec.global_batch, ...); spec.model the model with its `tensors`
    (Tensor records in canonical order), `dims` (MLP), n_params, kind."""

    def __init__(self, d):
        model = dict(d["model"])
        model["tensors"] = tuple(
            Tensor(i, t["name"], tuple(t["shape"]), t["numel"], t["offset"], t["layer"], t["flags"])
            for i, t in enumerate(model["tensors"]))
        model["dims"] = tuple(model["dims"])
        self.model = _Record(model)
        for k, v in d.items():
            if k != "model":
                setattr(self, k, v)

    def __repr__(self):
        return (f"Spec(model={self.model.name}, stage={self.stage}, precision={self.precision}, "
                f"rank={self.rank}/{self.world_size}, batch={self.global_batch}x{self.micro_batches})")


class _Record:
    def __init__(self, d):
        self.__dict__.update(d)

    def __repr__(self):
        return f"Model({self.name}, {self.n_params} params, {len(self.tensors)} tensors)"
