"""Test stand-in for torch._C (see torch/__init__.py): the OOM observer hook."""


def _cuda_attach_out_of_memory_observer(observer):
    """Real signature: observer(device, alloc_size, device_total, device_free), called by the
    allocator with its lock released, before it raises OutOfMemoryError."""
    from .cuda import memory
    memory._observers.append(observer)
