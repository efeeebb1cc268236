"""Test stand-in for torch.cuda.memory (see torch/__init__.py): the allocator history
switch and the snapshot, in the layout of torch/csrc/cuda/memory_snapshot.cpp."""
import sys

from . import _allocator as _impl

_allocators = []
_observers = []
_history = {"enabled": None, "context": None, "stacks": None, "max_entries": 1}


def _init(ndevices):
    """Called by torch.cuda._lazy_init once the runtime answered."""
    from . import get_allocator_backend
    cls = _impl.AsyncAllocator if get_allocator_backend() == "cudaMallocAsync" else _impl.Allocator
    _allocators[:] = [cls(d, _history, _observers) for d in range(ndevices)]


def _allocator(index):
    return _allocators[index]


def _record_memory_history(enabled="all", context="all", stacks="all", max_entries=sys.maxsize,
                           device=None, clear_history=False):
    """Like PyTorch 2.1+: enabled None/"state"/"all", context None/"state"/"alloc"/"all",
    stacks "python"/"all"; the history is a ring of at most max_entries entries (only kept
    with enabled="all"). The cudaMallocAsync backend refuses, as PyTorch's does."""
    from . import get_allocator_backend
    if get_allocator_backend() == "cudaMallocAsync":
        raise RuntimeError("cudaMallocAsync does not yet support recordHistory. If you need it, "
                           "please file an issue describing your use case.")
    if enabled not in (None, "state", "all") or context not in (None, "state", "alloc", "all") \
            or stacks not in ("python", "all"):
        raise ValueError("bad _record_memory_history arguments")
    _history.update(enabled=enabled, context=context, stacks=stacks,
                    max_entries=max_entries if enabled == "all" else 1)
    for a in _allocators:
        a.set_history(clear_history)


def _snapshot(device=None):
    """{segments, device_traces, allocator_settings}: every segment with its blocks, and per
    device its history, oldest first. Taking it adds a "snapshot" entry to each history."""
    from . import _conf
    segments, traces = [], []
    for a in _allocators:
        segments.extend(a.segments_snapshot())
        a.record("snapshot", 0, a.active_bytes(), frames=[])
        traces.append(a.trace())
    conf = _conf()
    return {
        "segments": segments,
        "device_traces": traces,
        "allocator_settings": {
            "PYTORCH_CUDA_ALLOC_CONF": ",".join(f"{k}:{v}" for k, v in conf.items()),
            "max_split_size": int(conf["max_split_size_mb"]) << 20 if "max_split_size_mb" in conf else -1,
            "garbage_collection_threshold": 0.0,
            "expandable_segments": conf.get("expandable_segments", "False") == "True",
            "roundup_power2_divisions": {},
        },
    }


def memory_snapshot():
    return _snapshot()["segments"]
