"""ctypes bindings to libgpuprof.so's adapter API (shim/include/gpuprof.h), looked up in
the process itself: no library is loaded, and a process without the shim gets None."""
import ctypes

ESRCH, EINVAL = 3, 22


class Shim:
    def __init__(self, lib):
        self.py_function = lib.gpuprof_py_function
        self.py_function.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        self.py_function.restype = ctypes.c_uint
        self._events = lib.gpuprof_torch_events
        self._events.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self._events.restype = ctypes.c_long
        self.stat = lib.gpuprof_torch_stat
        self.stat.argtypes = [ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_ulonglong]
        self.stat.restype = ctypes.c_int
        self.flush = lib.gpuprof_flush
        self.flush.argtypes = [ctypes.c_uint]
        self.flush.restype = ctypes.c_int

    def events(self, words):
        """words: an array('Q'); returns gpuprof_torch_events' answer."""
        if not len(words):
            return 0
        address, n = words.buffer_info()
        return self._events(address, n)


def load():
    lib = ctypes.CDLL(None)
    if not hasattr(lib, "gpuprof_torch_events") or not hasattr(lib, "gpuprof_torch_stat"):
        return None
    return Shim(lib)
