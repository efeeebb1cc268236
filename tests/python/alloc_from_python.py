"""alloc_from_python.py — calls gp_py_alloc (tests/python/gp_py_alloc.c) from known Python
places, for tests/e2e/test_python_stacks.py. Usage: alloc_from_python.py LIB OUT.json

Each call allocates a distinct size and is on a line marked "# site:SIZE". Right before
each call, on the same line, expect() notes the Python stack as CPython itself reports it
(file, function, line per frame, innermost first); OUT.json maps each size to that stack.
Runs on CPython 3.9 to 3.13; functions are named by co_qualname where it exists (3.11+).
"""
import ctypes
import json
import sys
import threading

LIB, OUT = sys.argv[1], sys.argv[2]
cdll = ctypes.CDLL(LIB)    # releases the GIL around each call
pydll = ctypes.PyDLL(LIB)  # keeps it
for lib in (cdll, pydll):
    lib.gp_py_alloc.argtypes = [ctypes.c_size_t]
    lib.gp_py_alloc.restype = ctypes.c_int

expected = {}


def expect(size):
    """The caller's stack, innermost first. Called on the line of the allocation, so every
    frame's line is the one that frame is executing during the allocation."""
    stack, f = [], sys._getframe(1)
    while f is not None:
        code = f.f_code
        stack.append([code.co_filename, getattr(code, "co_qualname", code.co_name), f.f_lineno])
        f = f.f_back
    expected[size] = stack
    return size


def alloc_cdll(size):
    return cdll.gp_py_alloc(expect(size))  # site:1001 site:1003 site:1005 site:1009


def alloc_pydll(size):
    return pydll.gp_py_alloc(expect(size))  # site:1002 site:1004


def recurse(n, size):
    if n == 0:
        return alloc_cdll(size)
    return recurse(n - 1, size)


class Model:
    def forward(self, size):
        return cdll.gp_py_alloc(expect(size))  # site:1006


def generator(size):
    yield pydll.gp_py_alloc(expect(size))  # site:1007


def in_thread(fn, size):
    t = threading.Thread(target=fn, args=(size,), name="worker")
    t.start()
    t.join()


# Code compiled from text: a non-ASCII file name, and a call 300 lines into a function,
# after many statements, so each version's line table needs many entries and big jumps.
FAR = "def far_away(size):\n" + "    x = 0\n" * 150 + "\n" * 150 + \
      "    return cdll.gp_py_alloc(expect(size))\n"
exec(compile(FAR, "gén_ünïcode_文件.py", "exec"), globals())

alloc_cdll(1001)
alloc_pydll(1002)
in_thread(alloc_cdll, 1003)
in_thread(alloc_pydll, 1004)
recurse(12, 1005)
Model().forward(1006)
next(generator(1007))
far_away(1008)
recurse(100, 1009)  # deeper than GPUPROF_DEPTH allows: the innermost frames are kept

with open(OUT, "w") as f:
    json.dump(expected, f)
