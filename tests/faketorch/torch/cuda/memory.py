"""Test stand-in for torch.cuda.memory (see torch/__init__.py): the allocator history
switch and the snapshot, in the layout THCPModule_memorySnapshot (torch/csrc/cuda/Module.cpp)
builds; memory_snapshot.cpp's pickled twin has the same keys. Version differences: _fakever."""
import sys

from . import _allocator as _impl
from .. import _fakever

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
    """Like torch/cuda/memory.py _record_memory_history_impl (2.1+; a bool `enabled` would
    take the legacy path, not modelled): enabled None/"state"/"all", context
    None/"state"/"alloc"/"all", stacks "python"/"all"; max_entries is forced to 1 unless
    enabled == "all" (torch/csrc/cuda/memory_snapshot.cpp). clear_history is newer than 2.1
    (first release not pinned down); it is accepted here whatever the version. The cudaMallocAsync backend refuses, as CUDAMallocAsyncAllocator's
    recordHistory does. In PyTorch this also initialises CUDA (lazyInitCUDA), which is why
    gpuprof only calls it from a torch.cuda._lazy_call callback."""
    from . import get_allocator_backend
    if get_allocator_backend() == "cudaMallocAsync":
        raise RuntimeError("cudaMallocAsync does not yet support recordHistory. If you need it, "
                           "please file an issue describing your use case.")
    if enabled not in (None, "state", "all") or context not in (None, "state", "alloc", "all") \
            or stacks not in ("python", "all"):
        raise RuntimeError("expected state to be 'state', 'all', or None")
    _history.update(enabled=enabled, context=context, stacks=stacks,
                    max_entries=max(1, max_entries) if enabled == "all" else 1)
    for a in _allocators:
        # recordHistory (CUDACachingAllocator.cpp): 2.1 empties the ring on every call,
        # later releases only when recording stops or clear_history asks for it.
        a.set_history(not _fakever.at_least(2, 2) or enabled is None or clear_history)


def _snapshot(device=None):
    """{segments, device_traces[, allocator_settings]} as THCPModule_memorySnapshot
    (torch/csrc/cuda/Module.cpp) builds it: every segment with its blocks, then per device its
    history, oldest first. NativeCachingAllocator::snapshot reads each device's trace *before*
    that device's snapshot() records its "snapshot" entry, so a snapshot's own entry shows
    up in the next one. The cudaMallocAsync backend raises (CUDAMallocAsyncAllocator.cpp)."""
    from . import _conf, get_allocator_backend
    if get_allocator_backend() == "cudaMallocAsync":
        raise RuntimeError("Calling snapshot with backend:cudaMallocAsync is not meaningful. "
                           "(For backend:native, snapshot returns a detailed summary of all blocks "
                           "tracked by the allocator, but the cudaMallocAsync backend does not track "
                           "individual blocks.)")
    segments, traces = [], []
    for a in _allocators:
        traces.append(a.trace())
        segments.extend(a.segments_snapshot())
        a.record("snapshot", 0, a.active_bytes(), None)
    out = {"segments": segments, "device_traces": traces}
    if _fakever.at_least(2, 3):  # PR #119404: CUDAAllocatorConfig in the snapshot
        conf = _conf()
        out["allocator_settings"] = {
            "PYTORCH_CUDA_ALLOC_CONF": ",".join(f"{k}:{v}" for k, v in conf.items()),
            # SIZE_MAX (no limit) reaches Python as int64_t: -1
            "max_split_size": int(conf["max_split_size_mb"]) << 20 if "max_split_size_mb" in conf else -1,
            "garbage_collection_threshold": 0.0,
            "expandable_segments": conf.get("expandable_segments", "False") == "True",
            "pinned_num_register_threads": 1,
            "release_lock_on_cudamalloc": False,
            "pinned_use_cuda_host_register": False,
            "roundup_power2_divisions": {str(1 << i): 0 for i in range(16)},
        }
    return out


def memory_snapshot():
    return _snapshot()["segments"]
