"""gpuprof_torch's drain logic on its own (python/gpuprof_torch/_ring.py), without torch or
the shim: which entries of PyTorch's history ring are new after a drain (the ring has no
sequence numbers), and the exact words handed to gpuprof_torch_events."""
import os
import sys

from e2e import equal, finish

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from gpuprof_torch import _ring  # noqa: E402


def entry(t, action="alloc", addr=0x1000, size=512, frames=()):
    return {"time_us": t, "action": action, "addr": addr, "size": size, "stream": 7,
            "frames": list(frames)}


def ring(entries, max_entries):
    return entries[-max_entries:]


history = [entry(t, addr=0x1000 + t) for t in range(10)]

# First drain: everything is new.
c = _ring.Cursor()
equal(c.advance(ring(history, 8)), (0, False), "first drain of a full ring")
equal(c.pos, 7, "cursor position after the first drain")

# Three more entries, ring of 8 full: the last one read moved 3 places to the front.
history += [entry(t, addr=0x1000 + t) for t in range(10, 13)]
equal(c.advance(ring(history, 8)), (5, False), "ring shifted by three: the new ones start at 5")

# Nothing new: nothing to forward.
equal(c.advance(ring(history, 8)), (8, False), "no new entries")

# A ring that is not full yet keeps its place.
c2 = _ring.Cursor()
short = history[:4]
c2.advance(short)
equal(c2.advance(history[:6]), (4, False), "growing ring: new entries after the old end")

# Eight or more new entries: the last one read is gone, the ring wrapped.
history += [entry(t, addr=0x1000 + t) for t in range(13, 25)]
equal(c.advance(ring(history, 8)), (0, True), "wrapped past the last entry read")

# Entries identical in (time, action, addr, size) are told apart by those before them.
same = [entry(100, "alloc"), entry(100, "free_requested"), entry(100, "alloc"),
        entry(100, "free_requested")]
c3 = _ring.Cursor()
c3.advance(same[:2])
equal(c3.advance(same), (2, False), "a repeated pattern in the same microsecond")
# The last entry read survives only as the ring's first entry: its predecessors are gone.
c4 = _ring.Cursor()
c4.advance([entry(1), entry(2), entry(3)])
equal(c4.advance([entry(3), entry(4), entry(5)]), (1, False), "only the last entry read is left")

# Packing: header words, frames innermost first as PyTorch lists them, handles interned once.
registered = []


def register(file, name):
    registered.append((file, name))
    return len(registered)


frames = _ring.Frames(register, limit=2)
words = _ring.new_words()
e = entry(1700000000123456, "alloc", 0x7f0000200000, 1024,
          [{"filename": "/x/train.py", "line": 12, "name": "step"},
           {"filename": "/x/train.py", "line": 40, "name": "<module>"}])
equal(_ring.pack(words, e, 0, frames, 64), True, "alloc packed")
equal(list(words), [1, 0, 1700000000123456000, 0x7f0000200000, 1024, 7, 0, 0, 2,
                    1 << 32 | 12, 2 << 32 | 40], "alloc words")
del words[:]
oom = {"action": "oom", "size": 5000192, "stream": 0, "time_us": 5, "device_free": 16777216,
       "frames": [{"filename": "/x/train.py", "line": 12, "name": "step"},
                  {"filename": "/x/other.py", "line": 3, "name": "f"}]}
equal(_ring.pack(words, oom, -1, frames, 64, aux2=20971520), True, "oom packed")
equal(list(words), [8, (1 << 64) - 1, 5000, 0, 5000192, 0, 16777216, 20971520, 2,
                    1 << 32 | 12, 0 << 32 | 3], "oom words: no address, free bytes, segment size, "
                    "device -1 as two's complement, a frame beyond the table's limit unknown (0)")
equal(registered, [(b"/x/train.py", b"step"), (b"/x/train.py", b"<module>")],
      "each (file, function) registered once, up to the limit")
del words[:]
equal(_ring.pack(words, entry(1), 0, frames, 1), True, "depth 1")
equal(words[8], 0, "an entry without frames")
for skipped in ("snapshot", "annotate", "what"):
    del words[:]
    equal((_ring.pack(words, entry(1, skipped), 0, frames, 64), len(words)), (False, 0),
          f"{skipped} entries are not forwarded")
del words[:]
equal(_ring.pack(words, entry(1, frames=[{"filename": "a", "line": 1, "name": "b"}] * 5), 0,
                 frames, 3), True, "depth-limited")
equal(words[8], 3, "frames cut at the depth")
# The entry's size is the request; the adapter passes the block size it computed.
equal([_ring.block_size(n) for n in (1, 511, 512, 513, 1000, 5000000)],
      [512, 512, 512, 1024, 1024, 5000192], "round_size: 512-byte multiples, at least 512")
del words[:]
_ring.pack(words, entry(3, size=1000), 0, frames, 0, size=1024)
equal((words[2], words[4]), (3000, 1024), "a given size replaces the entry's")
# PyTorch 2.1 records no time_us: the time given for untimed entries is used.
del words[:]
untimed = {"action": "free_requested", "addr": 0x2000, "size": 1000, "stream": 0}
equal(_ring.pack(words, untimed, 0, frames, 64, untimed_ns=1234567), True, "an entry without time_us")
equal(list(words), [2, 0, 1234567, 0x2000, 1000, 0, 0, 0, 0],
      "no time_us: the given time; no frames key: no frames")
finish()
