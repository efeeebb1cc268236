"""Test stand-in for torch.cuda (see torch/__init__.py): lazy initialisation with queued
calls, the allocator's public statistics, and OutOfMemoryError.

Like the real module, CUDA starts at the first use (_lazy_init), and calls queued with
_lazy_call run right after it started but before is_initialized() turns true — so
memory_stats() still answers {} inside them, as it does in PyTorch."""
import ctypes
import os
import threading
import traceback

from . import memory  # noqa: F401

_initialized = False
_queued_calls = []
_tls = threading.local()
_lock = threading.RLock()
_cudart = None
_current = 0


class OutOfMemoryError(RuntimeError):
    """torch.cuda.OutOfMemoryError (torch.OutOfMemoryError in newer versions)."""


class DeferredCudaCallError(Exception):
    pass


def is_initialized():
    return _initialized


def _lazy_call(callable, **kwargs):
    if is_initialized():
        callable()
    else:
        _queued_calls.append((callable, traceback.format_stack()))


def _runtime():
    """The CUDA runtime, loaded globally and called through the global scope the way
    libtorch_cuda's imports are, so an LD_PRELOADed library sees the calls."""
    global _cudart
    if _cudart is None:
        ctypes.CDLL("libcudart.so.13", mode=ctypes.RTLD_GLOBAL)
        _cudart = ctypes.CDLL(None)
        for name in ("cudaMalloc", "cudaFree", "cudaMemGetInfo", "cudaSetDevice",
                     "cudaGetDeviceCount", "cudaMallocAsync", "cudaFreeAsync"):
            getattr(_cudart, name).restype = ctypes.c_int
    return _cudart


def _lazy_init():
    global _initialized
    if _initialized or hasattr(_tls, "is_initializing"):
        return
    with _lock:
        if _initialized:
            return
        rt = _runtime()
        n = ctypes.c_int(0)
        if rt.cudaGetDeviceCount(ctypes.byref(n)) != 0 or n.value < 1:
            raise RuntimeError("No CUDA GPUs are available")
        memory._init(n.value)
        _tls.is_initializing = True
        try:
            for call, orig in _queued_calls:
                try:
                    call()
                except Exception as e:
                    raise DeferredCudaCallError(
                        f"CUDA call failed lazily at initialization with error: {e}\n\n"
                        f"CUDA call was originally invoked at:\n\n{''.join(orig)}") from e
        finally:
            del _tls.is_initializing
        _initialized = True


init = _lazy_init


def device_count():
    n = ctypes.c_int(0)
    return n.value if _runtime().cudaGetDeviceCount(ctypes.byref(n)) == 0 else 0


def current_device():
    return _current


def set_device(device):
    global _current
    _lazy_init()
    _current = int(device)
    _runtime().cudaSetDevice(ctypes.c_int(_current))


def _conf():
    """PYTORCH_CUDA_ALLOC_CONF (alias PYTORCH_ALLOC_CONF) as a dict."""
    text = os.environ.get("PYTORCH_CUDA_ALLOC_CONF") or os.environ.get("PYTORCH_ALLOC_CONF") or ""
    out = {}
    for item in text.split(","):
        if ":" in item:
            k, v = item.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def get_allocator_backend():
    return "cudaMallocAsync" if _conf().get("backend") == "cudaMallocAsync" else "native"


def memory_stats(device=None):
    if not is_initialized():
        return {}
    return memory._allocator(_index(device)).stats()


def memory_allocated(device=None):
    return memory_stats(device).get("allocated_bytes.all.current", 0)


def max_memory_allocated(device=None):
    return memory_stats(device).get("allocated_bytes.all.peak", 0)


def memory_reserved(device=None):
    return memory_stats(device).get("reserved_bytes.all.current", 0)


def max_memory_reserved(device=None):
    return memory_stats(device).get("reserved_bytes.all.peak", 0)


def reset_peak_memory_stats(device=None):
    memory._allocator(_index(device)).reset_peaks()


def empty_cache():
    if is_initialized():
        for a in memory._allocators:
            a.release_cached()


def _index(device):
    if device is None:
        return current_device()
    if isinstance(device, int):
        return device
    text = str(device)
    return int(text.split(":", 1)[1]) if ":" in text else current_device()
