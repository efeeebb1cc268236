"""gpuprof's PyTorch adapter: hands PyTorch's own caching-allocator history (every
allocation and free with its Python stack), its statistics and its out-of-memory evidence to
libgpuprof.so, so that the trace shows allocated next to reserved memory.

Loaded by gpuprof's sitecustomize in every Python process started under libgpuprof.so.
Until the program imports torch the only trace of it is one entry in sys.meta_path; it
never imports torch itself, never initialises CUDA, and does nothing at all when the
process does not carry libgpuprof.so or GPUPROF_TORCH=0. See docs/pytorch.md."""
import os
import sys

_OFF = ("0", "false", "no", "off")
_state = {"installed": False, "adapter": None, "warned": set()}


def warn(message, key=None):
    """One line on stderr, once per key; never raises."""
    key = key or message
    if key in _state["warned"]:
        return
    _state["warned"].add(key)
    try:
        sys.stderr.write("gpuprof: " + message + "\n")
        sys.stderr.flush()
    except Exception:
        pass


def env_off(name):
    return os.environ.get(name, "").strip().lower() in _OFF


def install():
    """Arms the adapter: a post-import hook for torch. Returns whether it did; never raises."""
    try:
        if _state["installed"] or env_off("GPUPROF_TORCH") or env_off("GPUPROF_ENABLE"):
            return False
        # ctypes (most of the adapter's start-up cost) waits until torch is imported, so a
        # Python program that never imports torch pays for one sys.meta_path entry only.
        from . import _hook
        _state["installed"] = True
        _hook.when_imported("torch", _torch_imported)
        return True
    except Exception as e:
        warn(f"the PyTorch adapter is off ({type(e).__name__}: {e})", "install")
        return False


def _torch_imported(torch):
    """Runs right after `import torch` finished: setup waits for CUDA to start."""
    try:
        from . import _shim
        shim = _shim.load()
        if shim is None:
            return  # the process does not carry libgpuprof.so: stay out of the way
        from . import _adapter
        if _state["adapter"] is None:
            _state["adapter"] = _adapter.Adapter(shim, torch)
            _state["adapter"].arm()
    except Exception as e:
        warn(f"the PyTorch adapter is off ({type(e).__name__}: {e})", "arm")


def status():
    """What the adapter did so far (for tests and curious users): a new dict."""
    a = _state["adapter"]
    out = {"installed": _state["installed"], "armed": a is not None}
    if a is not None:
        out.update(a.status())
    return out
