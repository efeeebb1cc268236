"""Pure logic of the drain, kept apart so it can be tested without torch or the shim:
which entries of PyTorch's allocator history are new, and how they become the words of
gpuprof_torch_events (shim/include/gpuprof.h).

PyTorch's history is a ring of at most max_entries entries with no sequence numbers; a
snapshot lists it oldest first. The adapter remembers the identity of the last few entries
it consumed and where the last one was; in the next snapshot that entry sits at the same
place or, once the ring is full, further to the front. Not finding it means the ring
wrapped past it: everything listed is new and the events in between are lost (counted
exactly from the allocator's cumulative counters, see Adapter.drain)."""
from array import array

ACTIONS = {"alloc": 1, "free_requested": 2, "free_completed": 3, "segment_alloc": 4,
           "segment_free": 5, "segment_map": 6, "segment_unmap": 7, "oom": 8}
OOM = ACTIONS["oom"]
BLOCK_ACTIONS = ("alloc", "free_requested", "free_completed")
SIGNATURE = 4  # entries whose identity marks the place reached
MASK = (1 << 64) - 1


def key(entry):
    return (entry.get("time_us"), entry.get("action"), entry.get("addr"), entry.get("size"))


class Cursor:
    """Where one device's history was read up to."""

    __slots__ = ("sig", "pos")

    def __init__(self):
        self.sig, self.pos = (), -1

    def advance(self, trace):
        """Returns (index of the first new entry, whether the ring wrapped past the last one
        read) and moves the cursor to the end of trace."""
        start, wrapped = 0, False
        if self.sig and trace:
            start, wrapped = None, True
            n = len(self.sig)
            for p in range(min(self.pos, len(trace) - 1), -1, -1):
                k = min(n, p + 1)
                if all(key(trace[p - k + 1 + i]) == self.sig[n - k + i] for i in range(k)):
                    start, wrapped = p + 1, False
                    break
            if start is None:
                start = 0
        if trace:
            self.sig = tuple(key(e) for e in trace[-SIGNATURE:])
            self.pos = len(trace) - 1
        return start, wrapped


class Frames:
    """(file, function) -> the shim's handle, a bounded table (beyond it frames are unknown)."""

    def __init__(self, register, limit=65536):
        self.register, self.limit, self.table = register, limit, {}

    def handle(self, filename, name):
        k = (filename, name)
        h = self.table.get(k)
        if h is None:
            h = 0
            if len(self.table) < self.limit:
                h = self.register(str(filename).encode("utf-8", "replace"),
                                  str(name).encode("utf-8", "replace")) or 0
                self.table[k] = h
        return h


def block_size(requested):
    """The bytes PyTorch's allocated statistic counts for a request, when the block was cut
    to fit: round_size() in c10/cuda/CUDACachingAllocator.cpp with default settings (512-byte
    multiples, at least 512). History entries carry the request itself (orig_size)."""
    return 512 if requested < 512 else (requested + 511) // 512 * 512


def pack(words, entry, device, frames, depth, aux1=0, aux2=0, size=None, untimed_ns=0):
    """Appends one event to words (an array('Q')); returns False for actions that are not
    forwarded ("snapshot", "annotate", unknown ones). size replaces the entry's own;
    untimed_ns is the time (ns, wall clock) used when the entry has no time_us (PyTorch 2.1
    records none)."""
    action = ACTIONS.get(entry.get("action"))
    if action is None:
        return False
    t = entry.get("time_us")
    t_ns = int(t) * 1000 if t else int(untimed_ns)
    if action == OOM:
        addr = 0
        aux1 = aux1 or entry.get("device_free") or 0
    else:
        addr = entry.get("addr") or 0
    stack = entry.get("frames") or () if frames is not None and depth else ()
    n = min(len(stack), depth)
    size = int(entry.get("size") or 0) if size is None else int(size)
    words.extend((action, device & MASK, t_ns & MASK, int(addr) & MASK,
                  size & MASK, int(entry.get("stream") or 0) & MASK,
                  int(aux1) & MASK, int(aux2) & MASK, n))
    # PyTorch lists the innermost frame first (CapturedTraceback walks f_back from the
    # current frame), as the shim wants. For free_* entries the stack is the block's
    # allocation stack unless context="all" (record_trace falls back to it).
    for f in stack[:n]:
        words.append(frames.handle(f.get("filename", "??"), f.get("name", "??")) << 32
                     | (int(f.get("line") or 0) & 0xFFFFFFFF))
    return True


def new_words():
    return array("Q")
