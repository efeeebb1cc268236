"""The adapter proper: started by torch.cuda._lazy_call right after CUDA initialised, it
switches on PyTorch's allocator history, attaches an OOM observer, and drains the history
into libgpuprof.so from a daemon thread ("gpuprof-torch"), inside the OOM observer (before
the exception reaches the program) and at exit, with PyTorch's statistics on each occasion.

Rules it keeps: every entry point catches everything (one "gpuprof: " line on stderr, then
the adapter is off); it never initialises CUDA, changes devices, resets statistics, holds a
tensor, or writes to stdout; its memory is bounded (the history ring, the frame table)."""
import atexit
import os
import re
import sys
import threading
import time

from . import _ring, _shim, warn

AT_START, AT_PERIODIC, AT_OOM, AT_EXIT = 1, 2, 3, 4
(ALLOCATED, RESERVED, ACTIVE, INACTIVE_SPLIT, ALLOCATED_PEAK, RESERVED_PEAK, LARGEST_FREE,
 NUM_ALLOC_RETRIES, NUM_OOMS, DEVICE_TOTAL, DEVICE_FREE, REQUEST, SEGMENT_REQUEST, ALLOCS, FREES,
 HISTORY_LOST, EXPANDABLE, BACKEND_ASYNC, TORCH_VERSION, PRIVATE_POOLS, MAX_SPLIT_SIZE,
 FATAL) = range(1, 23)
# enum gp_torch_stat <- torch.cuda.memory_stats() keys
STATS = ((ALLOCATED, "allocated_bytes.all.current"), (RESERVED, "reserved_bytes.all.current"),
         (ACTIVE, "active_bytes.all.current"), (INACTIVE_SPLIT, "inactive_split_bytes.all.current"),
         (ALLOCATED_PEAK, "allocated_bytes.all.peak"), (RESERVED_PEAK, "reserved_bytes.all.peak"),
         (NUM_ALLOC_RETRIES, "num_alloc_retries"), (NUM_OOMS, "num_ooms"),
         (ALLOCS, "allocation.all.allocated"), (FREES, "allocation.all.freed"))
NAMES = {v: k for k, v in (
    ("allocated", ALLOCATED), ("reserved", RESERVED), ("active", ACTIVE),
    ("inactive_split", INACTIVE_SPLIT), ("allocated_peak", ALLOCATED_PEAK),
    ("reserved_peak", RESERVED_PEAK), ("largest_free_block", LARGEST_FREE),
    ("num_alloc_retries", NUM_ALLOC_RETRIES), ("num_ooms", NUM_OOMS), ("device_total", DEVICE_TOTAL),
    ("device_free", DEVICE_FREE), ("request", REQUEST), ("segment_request", SEGMENT_REQUEST),
    ("allocs", ALLOCS), ("frees", FREES), ("history_lost", HISTORY_LOST),
    ("expandable_segments", EXPANDABLE), ("backend_async", BACKEND_ASYNC),
    ("torch_version", TORCH_VERSION), ("private_pools", PRIVATE_POOLS),
    ("max_split_size", MAX_SPLIT_SIZE), ("fatal", FATAL))}  # gp_trace_torch_stat_name()
BATCH = 4096  # events per gpuprof_torch_events call


def setting(name, default, parse, lo, hi, unit):
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = parse(text.strip())
        if lo <= value <= hi:
            return value
    except ValueError:
        pass
    warn(f"bad {name} '{text}' (want {lo} to {hi} {unit}), using {default}", name)
    return default


def version_number(text):
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", str(text))
    return int(m.group(1)) * 10000 + int(m.group(2)) * 100 + int(m.group(3) or 0) if m else 0


class _Device:
    __slots__ = ("cursor", "base", "seen", "lost", "written")

    def __init__(self):
        self.cursor = _ring.Cursor()
        self.base = 0      # allocations + frees the allocator had made when history started
        self.seen = 0      # alloc and free_requested entries read since
        self.lost = 0
        self.written = None


class _Batch:
    """Events packed for one gpuprof_torch_events call."""

    def __init__(self):
        self.words, self.n = _ring.new_words(), 0


class Adapter:
    def __init__(self, shim, torch):
        self.shim, self.torch = shim, torch
        self.on = True
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.history = False
        self.backend_async = False
        self.devices = {}
        self.fatal = False
        self.thread = None
        self.latest = {}  # device -> {stat: the value last written}, for status()
        self.max_entries = setting("GPUPROF_TORCH_HISTORY", 100000, int, 16, 10000000, "entries")
        self.interval = setting("GPUPROF_TORCH_INTERVAL", 1.0, float, 0.01, 3600.0, "seconds")
        depth = setting("GPUPROF_DEPTH", 64, int, 0, 256, "frames") if "GPUPROF_DEPTH" in os.environ else 64
        stacks = os.environ.get("GPUPROF_PYTHON_STACKS", "").strip().lower() not in ("0", "false", "no", "off")
        self.depth = depth if stacks else 0
        self.frames = _ring.Frames(shim.py_function)
        self.counts = {"drains": 0, "events_sent": 0, "events_recorded": 0, "stat_records": 0,
                       "wraps": 0, "untimed": 0, "drain_seconds_last": 0.0, "drain_seconds_max": 0.0}
        oom = tuple(c for c in (getattr(torch.cuda, "OutOfMemoryError", None),
                                getattr(torch, "OutOfMemoryError", None)) if isinstance(c, type))
        self.oom_types = oom

    # ---- entry points: each catches everything ----
    def _fail(self, where, e):
        self.on = False
        self.stop.set()
        warn(f"the PyTorch adapter stopped ({where}: {type(e).__name__}: {e}); "
             "the trace has PyTorch's events up to here", "fail")

    def arm(self):
        """Right after `import torch`: setup runs once CUDA has started (never starts it)."""
        lazy = getattr(getattr(self.torch, "cuda", None), "_lazy_call", None)
        if lazy is None:
            warn("this torch has no torch.cuda._lazy_call: the PyTorch adapter is off", "lazy")
            return
        lazy(self.setup)

    def setup(self):
        try:
            self._setup()
        except Exception as e:
            self._fail("setup", e)

    def _setup(self):
        torch, cuda = self.torch, self.torch.cuda
        if not self.on:
            return
        backend = getattr(cuda, "get_allocator_backend", None)
        self.backend_async = backend is not None and backend() == "cudaMallocAsync"
        if self.backend_async:
            warn("PyTorch's cudaMallocAsync backend keeps no allocator history: "
                 "gpuprof records its statistics only", "async")
        else:
            record = getattr(getattr(cuda, "memory", None), "_record_memory_history", None)
            try:
                if record is None:
                    raise AttributeError("torch.cuda.memory._record_memory_history is missing")
                record(enabled="all", context="alloc", stacks="python", max_entries=self.max_entries)
                self.history = True
            except Exception as e:
                warn(f"PyTorch's allocator history is unavailable ({type(e).__name__}: {e}): "
                     "gpuprof records its statistics only", "history")
            attach = getattr(torch._C, "_cuda_attach_out_of_memory_observer", None)
            if attach is None:
                warn("this torch has no OOM observer: out-of-memory errors are seen "
                     "through CUDA only", "observer")
            else:
                attach(self._on_oom)
        for d in range(cuda.device_count()):
            self.devices[d] = _Device()
        if cuda.is_initialized():  # setup ran late: count from here
            for d, dev in self.devices.items():
                s = cuda.memory_stats(d)
                dev.base = s.get("allocation.all.allocated", 0) + s.get("allocation.all.freed", 0)
        self._write_stats(AT_START, self._stats() if cuda.is_initialized() else {}, settings=True)
        atexit.register(self._at_exit)
        self._wrap_excepthooks()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forked)
        if not self.on:
            return
        self.thread = threading.Thread(target=self._run, name="gpuprof-torch", daemon=True)
        self.thread.start()

    def _run(self):
        wait = self.interval
        while not self.stop.wait(wait):
            t0 = time.monotonic()
            try:
                self.drain(AT_PERIODIC)
            except Exception as e:
                self._fail("drain", e)
                return
            # Stay under ~2% of the program's time whatever a snapshot costs.
            wait = max(self.interval, 50 * (time.monotonic() - t0))

    def _on_oom(self, device, alloc_size, device_total, device_free):
        try:
            self.drain(AT_OOM, oom=(int(device), int(alloc_size), int(device_total), int(device_free)))
            if self.on:
                self.shim.flush(2000)
        except Exception as e:
            self._fail("OOM observer", e)

    def _at_exit(self):
        self.stop.set()
        try:
            if self.on:
                self.drain(AT_EXIT)
                self.shim.flush(2000)
        except Exception as e:
            self._fail("exit", e)

    def _forked(self):
        # The child has no CUDA of its own and no drain thread: it stays out of the trace.
        self.on = False
        self.stop.set()
        self.lock = threading.Lock()

    def _wrap_excepthooks(self):
        def dying(value):
            try:
                if self.oom_types and isinstance(value, self.oom_types):
                    self.fatal = True
            except Exception:
                pass

        previous = sys.excepthook

        def excepthook(exc_type, value, tb):
            dying(value)
            return previous(exc_type, value, tb)

        sys.excepthook = excepthook
        previous_thread = getattr(threading, "excepthook", None)
        if previous_thread is not None:
            def thread_excepthook(args):
                dying(getattr(args, "exc_value", None))
                return previous_thread(args)

            threading.excepthook = thread_excepthook

    # ---- the drain ----
    def _stats(self):
        return {d: self.torch.cuda.memory_stats(d) for d in self.devices}

    def drain(self, occasion, oom=None):
        """Forwards the history's new entries and a batch of statistics; with oom =
        (device, segment size tried, device total, device free) from the observer."""
        if not self.on or not self.lock.acquire(timeout=10):
            return
        try:
            cuda = self.torch.cuda
            if not self.on or not cuda.is_initialized():
                return
            self.counts["drains"] += 1
            stats = self._stats()  # before the snapshot: its entries cover these counts
            t0 = time.monotonic()
            snap = cuda.memory._snapshot() if self.history or oom else None
            spent = time.monotonic() - t0
            self.counts["drain_seconds_last"] = round(spent, 6)
            self.counts["drain_seconds_max"] = max(self.counts["drain_seconds_max"], round(spent, 6))
            now_ns = time.time_ns()  # for entries without time_us (PyTorch 2.1)
            batch, last_oom = _Batch(), {}
            sent = self.counts["events_sent"]
            if self.history:
                for d, trace in enumerate(snap.get("device_traces") or ()):
                    if d in self.devices:
                        self._collect(d, trace, batch, last_oom, oom, snap, now_ns)
            if oom is not None and oom[0] not in last_oom:
                # No history entry for it: the observer's own numbers.
                _ring.pack(batch.words, {"action": "oom", "size": oom[1]}, oom[0], None, 0,
                           aux1=oom[3], aux2=oom[1], untimed_ns=now_ns)
                last_oom[oom[0]] = {"size": oom[1]}
                batch.n += 1
            self._send(batch)
            sent = self.counts["events_sent"] - sent
            for d, dev in self.devices.items():
                s = stats.get(d) or {}
                made = s.get("allocation.all.allocated", 0) + s.get("allocation.all.freed", 0)
                if self.history:
                    dev.lost = max(dev.lost, made - dev.base - dev.seen)
            extra = {}
            if oom is not None:
                d = oom[0]
                extra[d] = [(DEVICE_TOTAL, oom[2]), (DEVICE_FREE, oom[3]),
                            (REQUEST, last_oom[d].get("size", 0)), (SEGMENT_REQUEST, oom[1])]
                extra[d] += self._fragments(snap, d)
            if occasion == AT_EXIT:
                fatal = self.fatal or self._died_of_oom()
                for d in self.devices:
                    extra.setdefault(d, []).append((FATAL, 1 if fatal else 0))
            self._write_stats(occasion, stats, extra=extra, quiet=occasion == AT_PERIODIC and not sent)
        finally:
            self.lock.release()

    def _collect(self, d, trace, batch, last_oom, oom, snap, now_ns):
        dev = self.devices[d]
        start, wrapped = dev.cursor.advance(trace)
        if wrapped:
            self.counts["wraps"] += 1
        live = None
        n = len(trace)
        for i in range(start, n):
            e = trace[i]
            action = e.get("action")
            size = None
            if action in _ring.BLOCK_ACTIONS:
                if action != "free_completed":
                    dev.seen += 1
                # The entry holds the request (orig_size / requested_size); PyTorch's
                # allocated statistic counts the block: its real size while it is still
                # live in this snapshot, else the request rounded as round_size() does.
                if live is None:
                    live = self._live_blocks(snap, d)
                req = int(e.get("size") or 0)
                b = live.get(e.get("addr"))
                size = b[0] if b is not None and b[1] == req else _ring.block_size(req)
            aux2 = 0
            if action == "oom":
                last_oom[d] = e
                # The newest OOM entry is the one the observer is being called for.
                if oom is not None and oom[0] == d and not any(
                        x.get("action") == "oom" for x in trace[i + 1:]):
                    aux2 = oom[1]
            if not e.get("time_us"):
                self.counts["untimed"] += 1
            # No time_us (2.1): the drain's own clock, a nanosecond apart per entry so that
            # the order is kept; the entries happened since the previous drain.
            if _ring.pack(batch.words, e, d, self.frames, self.depth, aux2=aux2, size=size,
                          untimed_ns=now_ns - (n - i)):
                batch.n += 1
                if batch.n >= BATCH:
                    self._send(batch)

    @staticmethod
    def _live_blocks(snap, d):
        """address -> (block size, requested size) of device d's allocated blocks."""
        out = {}
        for seg in (snap or {}).get("segments") or ():
            if seg.get("device") != d:
                continue
            for b in seg.get("blocks") or ():
                if b.get("state") in ("active_allocated", "active_pending_free", "active_awaiting_free"):
                    out[b.get("address")] = (int(b.get("size") or 0), int(b.get("requested_size") or 0))
        return out

    def _send(self, batch):
        n, words = batch.n, batch.words
        batch.n, batch.words = 0, _ring.new_words()
        if not n or not self.on:
            return
        done = self.shim.events(words)
        if done == -_shim.ESRCH:
            self.on = False  # tracing is off (the shim said why, if it had a reason)
            return
        if done < 0:
            raise RuntimeError(f"gpuprof_torch_events returned {done}")
        self.counts["events_sent"] += n
        self.counts["events_recorded"] += done

    @staticmethod
    def _fragments(snap, d):
        if not snap:
            return []
        largest, private = 0, 0
        for seg in snap.get("segments") or ():
            if seg.get("device") != d:
                continue
            pool = seg.get("segment_pool_id")
            if pool and tuple(pool) != (0, 0):
                private += seg.get("allocated_size", 0)
            for b in seg.get("blocks") or ():
                if b.get("state") == "inactive":
                    largest = max(largest, b.get("size", 0))
        return [(LARGEST_FREE, largest), (PRIVATE_POOLS, private)]

    @staticmethod
    def _died_of_oom_value():
        return getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)

    def _died_of_oom(self):
        # A later sys.excepthook may not have called ours: an uncaught exception also
        # leaves sys.last_value behind (outside interactive sessions, only then).
        if hasattr(sys, "ps1") or sys.flags.interactive:
            return False
        v = self._died_of_oom_value()
        return bool(self.oom_types) and isinstance(v, self.oom_types)

    def _settings(self):
        cuda = self.torch.cuda
        conf = {}
        try:
            conf = (cuda.memory._snapshot().get("allocator_settings") or {}) if self.history else {}
        except Exception:
            conf = {}
        if not conf:
            text = os.environ.get("PYTORCH_CUDA_ALLOC_CONF") or os.environ.get("PYTORCH_ALLOC_CONF") or ""
            for item in text.split(","):
                k, _, v = item.partition(":")
                conf[k.strip()] = v.strip()
            if "max_split_size_mb" in conf:
                try:
                    conf["max_split_size"] = int(float(conf["max_split_size_mb"]) * (1 << 20))
                except ValueError:
                    pass
        expandable = conf.get("expandable_segments", False)
        expandable = expandable is True or str(expandable).lower() == "true"
        split = conf.get("max_split_size", -1)
        split = split if isinstance(split, int) and 0 <= split < 1 << 63 else 0
        return [(EXPANDABLE, int(expandable)), (BACKEND_ASYNC, int(self.backend_async)),
                (MAX_SPLIT_SIZE, split), (TORCH_VERSION, version_number(self.torch.__version__))]

    def _write_stats(self, occasion, stats, extra=None, settings=False, quiet=False):
        common = self._settings() if settings else []
        for d, dev in self.devices.items():
            s = stats.get(d) or {}
            values = [(k, s[name]) for k, name in STATS if isinstance(s.get(name), int)]
            if s and self.history:
                values.append((HISTORY_LOST, dev.lost))
            if quiet and values == dev.written:
                continue  # nothing changed since the last batch
            if values:
                dev.written = values
            for k, v in common + values + list((extra or {}).get(d, ())):
                if not self.on:
                    return
                rc = self.shim.stat(occasion, d, k, max(0, int(v)) & _ring.MASK)
                if rc == -_shim.ESRCH:
                    self.on = False
                    return
                self.counts["stat_records"] += rc == 0
                self.latest.setdefault(d, {})[k] = max(0, int(v))

    def status(self):
        out = dict(self.counts)
        out.update(on=self.on, history=self.history, backend_async=self.backend_async,
                   time_source="drain" if self.counts["untimed"] else "pytorch",
                   max_entries=self.max_entries, interval=self.interval, fatal=self.fatal,
                   history_lost={d: dev.lost for d, dev in self.devices.items()},
                   stats={d: {NAMES[k]: v for k, v in sorted(x.items())} for d, x in self.latest.items()},
                   thread=self.thread is not None and self.thread.is_alive())
        return out
