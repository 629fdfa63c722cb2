"""A C plugin run through the Python bridge: what the bridge itself costs.

    DTBENCH_WRAPPED=build/plugins/ref-ddp.so \
        dtbench run --suite throughput --impl ref-ddp,examples/python/wrap_plugin.py

Every ABI call of this module hands the harness's own dtb_run_spec and
dtb_host_api (spec._address, host.api_address) to the C plugin through
ctypes and returns what it returns. The arithmetic, the communication (MPI,
counted by the harness as for the plugin itself) and the memory accounting
are the plugin's; what differs from running the plugin directly is the
bridge: the interpreter, the GIL and one Python call per ABI call. The
throughput suite's step times of the two, side by side, are the bridge's
overhead per step (docs/python.md). DTBENCH_WRAPPED names the plugin, by
path; default: ref-ddp from dtbench's plugins folder.
"""

import ctypes
import os

import dtbench

_PLUGINS = os.path.join(os.path.dirname(os.path.abspath(dtbench.__file__)), "..", "..")
PATH = os.environ.get("DTBENCH_WRAPPED") or os.path.join(_PLUGINS, "ref-ddp.so")


class _Plugin(ctypes.Structure):
    """dtb_plugin, as include/dtbench/plugin.h lays it out."""
    _fields_ = [("abi_version", ctypes.c_uint32), ("struct_size", ctypes.c_uint32),
                ("name", ctypes.c_char_p), ("version", ctypes.c_char_p),
                ("description", ctypes.c_char_p), ("caps", ctypes.c_uint64)] + [
                    (f, ctypes.c_void_p) for f in (
                        "create", "train_step", "get_params", "get_counters", "get_facts",
                        "destroy", "get_compute_params")]


class _Report(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("loss", ctypes.c_double),
                ("grad_norm", ctypes.c_double), ("clip_coef", ctypes.c_double)]


class _Counters(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("calls", ctypes.c_uint64 * 7),
                ("bytes", ctypes.c_uint64 * 7)]


class _Facts(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("stage", ctypes.c_int32),
                ("precision", ctypes.c_int32), ("reduce_dtype", ctypes.c_int32),
                ("param_dtype", ctypes.c_int32), ("bucket_bytes", ctypes.c_int64),
                ("prefetch_depth", ctypes.c_int32), ("mem_padding_bytes", ctypes.c_int64),
                ("mem_working_bytes", ctypes.c_int64)]


_lib = ctypes.CDLL(os.path.abspath(PATH), mode=os.RTLD_NOW | os.RTLD_LOCAL)
_lib.dtbench_plugin_entry.restype = ctypes.POINTER(_Plugin)
_table = _lib.dtbench_plugin_entry().contents
if _table.abi_version != 2:
    raise ImportError(f"{PATH}: plugin ABI {_table.abi_version}, this module speaks 2")
_fn = ctypes.CFUNCTYPE
_create = _fn(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
              ctypes.POINTER(ctypes.c_void_p))(_table.create)
_train_step = _fn(ctypes.c_int, ctypes.c_void_p, ctypes.c_int64,
                  ctypes.POINTER(_Report))(_table.train_step)
_get_params = _fn(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)(_table.get_params)
_get_counters = _fn(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_Counters))(_table.get_counters)
_get_facts = _fn(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_Facts))(_table.get_facts)
_destroy = _fn(None, ctypes.c_void_p)(_table.destroy)

NAME = "py-" + _table.name.decode()
VERSION = _table.version.decode()
DESCRIPTION = f"{_table.name.decode()} through the Python bridge (ctypes)"
# Checkpoints do not cross the bridge; everything else the plugin declares.
CAPS = [n for n, bit in dtbench.CAPS.items() if _table.caps & bit and n != "checkpoint"]


class State:
    pass


def _check(rc, call):
    if rc != 0:  # the plugin has told the harness why, through host->error
        raise RuntimeError(f"{_table.name.decode()}: {call} returned {rc}")


def create(spec, host):
    s = State()
    s.n = spec.model.n_params
    s.ptr = ctypes.c_void_p()
    _check(_create(spec._address, host.api_address, ctypes.byref(s.ptr)), "create")
    return s


def train_step(s, step):
    r = _Report(struct_size=ctypes.sizeof(_Report), grad_norm=-1.0, clip_coef=-1.0)
    _check(_train_step(s.ptr, step, ctypes.byref(r)), f"train_step({step})")
    return r.loss, r.grad_norm, r.clip_coef


def get_params(s, out):
    _check(_get_params(s.ptr, out.ctypes.data, s.n), "get_params")


def get_counters(s):
    c = _Counters(struct_size=ctypes.sizeof(_Counters))
    _check(_get_counters(s.ptr, ctypes.byref(c)), "get_counters")
    return dtbench.Counters(list(c.calls), list(c.bytes))


def get_facts(s):
    f = _Facts(struct_size=ctypes.sizeof(_Facts))
    _check(_get_facts(s.ptr, ctypes.byref(f)), "get_facts")
    return dtbench.Facts(f.stage, f.precision, f.reduce_dtype, f.param_dtype, f.bucket_bytes,
                         f.prefetch_depth, f.mem_padding_bytes, f.mem_working_bytes)


def destroy(s):
    _destroy(s.ptr)
