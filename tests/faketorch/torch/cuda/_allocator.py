"""Test stand-in (see torch/__init__.py): a small model of PyTorch's CUDA caching
allocator. Requests are rounded up to 512 bytes; requests up to 1 MiB come from 2 MiB
segments, up to 10 MiB from 20 MiB segments, larger ones get a segment rounded up to
2 MiB; blocks are taken best-fit and split, freed blocks merge with free neighbours.
Segments come from the CUDA runtime's cudaMalloc (so a preloaded profiler sees them);
when cudaMalloc fails the cached segments are given back and it is tried once more, then
the OOM path records an "oom" history entry, calls the observers and raises.

History entries mirror c10/cuda/CUDACachingAllocator.cpp's record_trace calls (2.1 to main):
alloc carries the *requested* size (orig_size, not the rounded block size), free_requested
and free_completed the block's requested_size; segment_* the segment size; oom the rounded
request and, instead of "addr", "device_free". An entry has a "frames" key only when it has
a context (THCPModule_memorySnapshot inserts frames only `if (te.context_)`): with
context="alloc" that is alloc, segment_alloc and oom (the malloc's stack), and free_*
(the block's *allocation* stack: record_trace(..., context ? context :
block->context_when_allocated)); never "snapshot". time_us is Unix-epoch microseconds
(ApproximateClockToUnixTimeConverter), from 2.2 on only (see _fakever)."""
import collections
import ctypes
import os
import sys
import time

from .. import _fakever

SMALL = 1 << 20
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the torch package
_POOLS = ("all", "small_pool", "large_pool")
# RecordContext (CUDACachingAllocator.h): NEVER < STATE < ALLOC < ALL
_LEVEL = {None: 0, "state": 1, "alloc": 2, "all": 3}


class _Stat:
    __slots__ = ("current", "peak", "allocated", "freed")

    def __init__(self):
        self.current = self.peak = self.allocated = self.freed = 0

    def add(self, amount):
        self.current += amount
        if amount > 0:
            self.allocated += amount
        else:
            self.freed -= amount
        self.peak = max(self.peak, self.current)


class _Block:
    __slots__ = ("addr", "size", "requested", "active", "frames", "segment", "context")

    def __init__(self, addr, size, segment):
        self.addr, self.size, self.segment = addr, size, segment
        self.requested, self.active, self.frames, self.context = 0, False, [], None


class _Segment:
    def __init__(self, addr, size, pool, frames):
        self.addr, self.size, self.pool, self.frames = addr, size, pool, frames
        self.blocks = [_Block(addr, size, self)]


def _fmt(n):
    return f"{n / (1 << 30):.2f} GiB" if n >= 1 << 30 else f"{n / (1 << 20):.2f} MiB"


def _python_frames():
    """The calling Python stack, innermost first, without the stand-in's own frames (in
    PyTorch these calls are native code)."""
    frames, f = [], sys._getframe(1)
    while f is not None:
        if not f.f_code.co_filename.startswith(_HERE):
            frames.append({"filename": f.f_code.co_filename, "line": f.f_lineno,
                           "name": f.f_code.co_name})
        f = f.f_back
    return frames


class Allocator:
    """One device's allocator."""

    def __init__(self, device, history, observers):
        self.device, self._history, self._observers = device, history, observers
        self.segments = []
        self.trace_ring = collections.deque(maxlen=1)
        self.stats_ = {k: {p: _Stat() for p in _POOLS} for k in (
            "allocation", "segment", "active", "inactive_split", "allocated_bytes",
            "reserved_bytes", "active_bytes", "inactive_split_bytes", "requested_bytes")}
        self.num_alloc_retries = self.num_ooms = 0
        self.num_device_alloc = self.num_device_free = 0
        self.set_history(False)

    # ---- history ----
    def set_history(self, clear):
        keep = [] if clear else list(self.trace_ring)
        on = self._history["enabled"] == "all"
        self.trace_ring = collections.deque(keep if on else [],
                                            maxlen=self._history["max_entries"] if on else 1)

    def record(self, action, addr, size, frames, **extra):
        """One record_trace: frames=None means no context (no "frames" key)."""
        if self._history["enabled"] != "all":
            return
        entry = {"action": action, "device_free" if action == "oom" else "addr": addr,
                 "size": size, "stream": 0}
        if frames is not None and self._level() >= _LEVEL["alloc"]:
            entry["frames"] = frames
        if _fakever.at_least(2, 2):
            entry["time_us"] = time.time_ns() // 1000
        if _fakever.at_least(2, 6):
            entry.update(compile_context="N/A", user_metadata="")
        entry.update(extra)
        self.trace_ring.append(entry)

    def trace(self):
        return list(self.trace_ring)

    def _level(self):
        return _LEVEL.get(self._history["context"], 0) if self._history["enabled"] else 0

    def _context(self, what):
        """maybeGatherContext: malloc gathers from STATE up, free only at ALL."""
        if self._level() >= (_LEVEL["state"] if what == "alloc" else _LEVEL["all"]):
            return _python_frames()
        return None

    # ---- the CUDA runtime ----
    def _rt(self):
        from . import _runtime
        return _runtime()

    def _device_alloc(self, size):
        p = ctypes.c_void_p()
        rc = self._rt().cudaMalloc(ctypes.byref(p), ctypes.c_size_t(size))
        return p.value if rc == 0 else None

    def _mem_info(self):
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        self._rt().cudaMemGetInfo(ctypes.byref(free), ctypes.byref(total))
        return free.value, total.value

    # ---- allocation ----
    def _stat(self, name, pool, amount):
        for p in ("all", pool):
            self.stats_[name][p].add(amount)

    def malloc(self, nbytes):
        size = max(512, (nbytes + 511) // 512 * 512)
        pool = "small_pool" if size <= SMALL else "large_pool"
        frames = self._context("alloc")
        block = self._best_fit(size, pool)
        if block is None:
            seg_size = (2 << 20 if pool == "small_pool" else 20 << 20 if size < 10 << 20
                        else (size + (2 << 20) - 1) // (2 << 20) * (2 << 20))
            addr = self._device_alloc(seg_size)
            if addr is None:
                self.num_alloc_retries += 1
                self.release_cached()
                addr = self._device_alloc(seg_size)
            if addr is None:
                self._oom(size, seg_size, frames)
            seg = _Segment(addr, seg_size, pool, frames or [])
            seg.context = frames
            self.segments.append(seg)
            self.num_device_alloc += 1
            self._stat("segment", pool, 1)
            self._stat("reserved_bytes", pool, seg_size)
            self.record("segment_alloc", addr, seg_size, frames)
            block = seg.blocks[0]
        seg = block.segment
        rest = block.size - size
        if rest >= 512 if pool == "small_pool" else rest > SMALL:
            i = seg.blocks.index(block)
            seg.blocks.insert(i + 1, _Block(block.addr + size, rest, seg))
            block.size = size
        block.active, block.requested, block.frames = True, nbytes, frames or []
        self._stat("allocation", pool, 1)
        self._stat("active", pool, 1)
        # alloc_found_block counts block->size: more than the rounded request when the
        # rest was too small to split off
        self._stat("allocated_bytes", pool, block.size)
        self._stat("active_bytes", pool, block.size)
        self._stat("requested_bytes", pool, nbytes)
        self.record("alloc", block.addr, nbytes, frames)  # orig_size, not block.size
        block.context = frames
        return block

    def _best_fit(self, size, pool):
        best = None
        for seg in self.segments:
            if seg.pool == pool:
                for b in seg.blocks:
                    if not b.active and b.size >= size and (best is None or b.size < best.size):
                        best = b
        return best

    def _oom(self, size, seg_size, frames):
        free, total = self._mem_info()
        self.record("oom", free, size, frames)
        self.num_ooms += 1
        for obs in list(self._observers):
            obs(self.device, seg_size, total, free)
        allocated = self.stats_["allocated_bytes"]["all"].current
        reserved = self.stats_["reserved_bytes"]["all"].current
        from . import OutOfMemoryError
        raise OutOfMemoryError(
            f"CUDA out of memory. Tried to allocate {_fmt(seg_size)}. GPU {self.device} has a total "
            f"capacity of {_fmt(total)} of which {_fmt(free)} is free. Of the allocated memory "
            f"{_fmt(allocated)} is allocated by PyTorch, and {_fmt(reserved - allocated)} is reserved "
            "by PyTorch but unallocated. If reserved but unallocated memory is large try setting "
            "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.")

    def free(self, block):
        seg = block.segment
        pool = seg.pool
        ctx = self._context("free")
        ctx = ctx if ctx is not None else getattr(block, "context", None)
        self.record("free_requested", block.addr, block.requested, ctx)
        self._stat("allocation", pool, -1)
        self._stat("active", pool, -1)
        self._stat("allocated_bytes", pool, -block.size)
        self._stat("active_bytes", pool, -block.size)
        self._stat("requested_bytes", pool, -block.requested)
        self.record("free_completed", block.addr, block.requested, ctx)
        block.active, block.frames, block.requested, block.context = False, [], 0, None
        i = seg.blocks.index(block)
        for j in (i + 1, i - 1):  # merge with free neighbours
            if 0 <= j < len(seg.blocks) and not seg.blocks[j].active:
                lo, hi = sorted((seg.blocks[i], seg.blocks[j]), key=lambda b: b.addr)
                lo.size += hi.size
                seg.blocks.remove(hi)
                i = seg.blocks.index(lo)

    def release_cached(self):
        """Gives every segment with nothing allocated in it back to CUDA (empty_cache)."""
        for seg in [s for s in self.segments if len(s.blocks) == 1 and not s.blocks[0].active]:
            self._rt().cudaFree(ctypes.c_void_p(seg.addr))
            self.segments.remove(seg)
            self.num_device_free += 1
            self._stat("segment", seg.pool, -1)
            self._stat("reserved_bytes", seg.pool, -seg.size)
            self.record("segment_free", seg.addr, seg.size, seg.context)

    # ---- what PyTorch reports ----
    def active_bytes(self):
        return self.stats_["active_bytes"]["all"].current

    def _inactive_split(self):
        for p in _POOLS:
            for k in ("inactive_split", "inactive_split_bytes"):
                self.stats_[k][p] = _Stat()
        for seg in self.segments:
            if len(seg.blocks) > 1:
                for b in seg.blocks:
                    if not b.active:
                        self._stat("inactive_split", seg.pool, 1)
                        self._stat("inactive_split_bytes", seg.pool, b.size)

    def stats(self):
        self._inactive_split()
        out = {}
        for name, pools in self.stats_.items():
            for p, s in pools.items():
                for f in ("current", "peak", "allocated", "freed"):
                    out[f"{name}.{p}.{f}"] = getattr(s, f)
        conf_mb = __import__("torch").cuda._conf().get("max_split_size_mb")
        for name in ("oversize_allocations", "oversize_segments"):  # statToDict, no pools
            for f in ("current", "peak", "allocated", "freed"):
                out[f"{name}.{f}"] = 0
        out.update(num_alloc_retries=self.num_alloc_retries, num_ooms=self.num_ooms,
                   num_sync_all_streams=0, num_device_alloc=self.num_device_alloc,
                   num_device_free=self.num_device_free,
                   max_split_size=int(conf_mb) << 20 if conf_mb else -1)
        return dict(sorted(out.items()))

    def reset_peaks(self):
        for pools in self.stats_.values():
            for s in pools.values():
                s.peak = s.current

    def segments_snapshot(self):
        out = []
        for seg in self.segments:
            blocks = [{"address": b.addr, "size": b.size, "requested_size": b.requested,
                       "state": "active_allocated" if b.active else "inactive",
                       "frames": b.frames} for b in seg.blocks]
            act = sum(b.size for b in seg.blocks if b.active)
            out.append({"device": self.device, "address": seg.addr, "total_size": seg.size,
                        "allocated_size": act, "active_size": act,
                        "requested_size": sum(b.requested for b in seg.blocks if b.active),
                        "stream": 0, "segment_type": "small" if seg.pool == "small_pool" else "large",
                        "segment_pool_id": (0, 0), "is_expandable": False, "frames": seg.frames,
                        "blocks": blocks})
        return out


class AsyncAllocator(Allocator):
    """backend:cudaMallocAsync: every tensor is one cudaMallocAsync, no history."""

    def malloc(self, nbytes):
        size = max(512, (nbytes + 511) // 512 * 512)
        p = ctypes.c_void_p()
        if self._rt().cudaMallocAsync(ctypes.byref(p), ctypes.c_size_t(size), None) != 0:
            self.num_ooms += 1
            from . import OutOfMemoryError
            raise OutOfMemoryError(f"Allocation on device {self.device} would exceed allowed memory.")
        seg = _Segment(p.value, size, "large_pool", [])
        block = seg.blocks[0]
        block.active, block.requested = True, nbytes
        for k, v in (("allocation", 1), ("allocated_bytes", size), ("reserved_bytes", size),
                     ("active_bytes", size), ("requested_bytes", nbytes), ("segment", 1)):
            self._stat(k, "large_pool", v)
        return block

    def free(self, block):
        self._rt().cudaFreeAsync(ctypes.c_void_p(block.addr), None)
        for k, v in (("allocation", -1), ("allocated_bytes", -block.size),
                     ("reserved_bytes", -block.size), ("active_bytes", -block.size),
                     ("requested_bytes", -block.requested), ("segment", -1)):
            self._stat(k, "large_pool", v)

    def segments_snapshot(self):
        return []
