"""A test stand-in for PyTorch — NOT PyTorch. It exists only for gpuprof's tests
(tests/e2e/test_torch_*.py) and is never installed.

It implements exactly the surface gpuprof's Python adapter (python/gpuprof_torch) calls,
with the shapes real PyTorch returns (allocator history entries, snapshot segments and
blocks, memory_stats key names, the OOM observer's arguments), plus a small caching
allocator so that test scripts can make tensors: ``torch.empty(n, dtype=torch.uint8,
device="cuda")`` takes n bytes from a segment the allocator got from the (fake) CUDA runtime
with cudaMalloc, exactly as libtorch_cuda does, so libgpuprof.so sees PyTorch's reserved
memory as it would with the real thing. The same test scripts run unchanged on real PyTorch.
"""
from . import _C, _fakever, cuda  # noqa: F401  (real torch imports _C and cuda at start)
from .cuda import OutOfMemoryError  # noqa: F401

__version__ = _fakever.TEXT + "+fake"  # FAKETORCH_VERSION picks the release (see _fakever)


class dtype:
    """An element type; only its size matters here."""

    def __init__(self, name, itemsize):
        self.name, self.itemsize = name, itemsize

    def __repr__(self):
        return "torch." + self.name


uint8 = dtype("uint8", 1)
float16 = dtype("float16", 2)
float32 = dtype("float32", 4)
float = float32


class Tensor:
    """Owns one block of the caching allocator; the block goes back when the tensor dies."""

    def __init__(self, alloc, block, numel, dt):
        self._alloc, self._block, self._numel, self.dtype = alloc, block, numel, dt

    def numel(self):
        return self._numel

    def element_size(self):
        return self.dtype.itemsize

    def data_ptr(self):
        return self._block.addr

    def __del__(self):
        if self._block is not None:
            block, self._block = self._block, None
            self._alloc.free(block)


def empty(*size, dtype=uint8, device="cpu"):
    """A tensor of the given shape; only device="cuda" / "cuda:N" is implemented."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    numel = 1
    for s in size:
        numel *= int(s)
    dev = str(device)
    if not dev.startswith("cuda"):
        raise NotImplementedError("the stand-in torch only makes CUDA tensors")
    index = int(dev.split(":", 1)[1]) if ":" in dev else cuda.current_device()
    cuda._lazy_init()
    alloc = cuda.memory._allocator(index)
    return Tensor(alloc, alloc.malloc(numel * dtype.itemsize), numel, dtype)
