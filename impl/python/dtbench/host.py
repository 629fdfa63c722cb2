"""The harness's host API (dtb_host_api) for a Python module."""

import _dtbench_host


def _buffer(x):
    """A torch CPU tensor's storage as NumPy (no copy); anything else as is."""
    if x is None or hasattr(x, "__array_interface__") or isinstance(x, memoryview):
        return x
    numpy = getattr(x, "numpy", None)
    if numpy is not None:
        if getattr(x, "device", None) is not None and x.device.type != "cpu":
            raise TypeError("the host fills CPU memory: pass a CPU tensor and copy it to the device")
        return numpy()
    return x


class Host:
    """sample_batch / init_params write into the buffers given (NumPy arrays
    or CPU torch tensors of the right size, C-contiguous), in place."""

    def __init__(self, capsule, spec):
        self._h = capsule
        self._spec = spec

    def sample_batch(self, step, first, count, inputs=None, targets=None):
        """Samples first..first+count-1 of step's global batch: MLP inputs
        float32 [count, dims[0]], targets int32 [count]."""
        _dtbench_host.sample_batch(self._h, step, first, count, _buffer(inputs), _buffer(targets))

    def init_params(self, tensor, out, first=0, count=None):
        """Initial values of elements first..first+count-1 (default: all) of
        tensor `tensor` (an index or a dtbench.Tensor) into float32 `out`."""
        index = getattr(tensor, "index", tensor)
        if count is None:
            count = self._spec.model.tensors[index].numel - first
        _dtbench_host.init_params(self._h, index, first, count, _buffer(out))

    @property
    def api_address(self):
        """The harness's dtb_host_api (an address, for ctypes): a module that
        hands the calls on to a C implementation passes it as its host."""
        return _dtbench_host.api_address(self._h)

    def mem_track(self, category, delta_bytes):
        """Bytes of a dtbench.MEM_* category allocated (+) or freed (-)."""
        _dtbench_host.mem_track(self._h, category, int(delta_bytes))
