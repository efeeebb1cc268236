"""Test stand-in (see torch/__init__.py): which PyTorch release the stand-in pretends to be.

FAKETORCH_VERSION (default 2.6.0) picks the shapes that differ between releases, each
checked against PyTorch's own source (the citations are where the shapes are built):

- time_us in allocator history entries: from 2.2 on (pytorch/pytorch PR #112266, merged
  2023-10-27, after v2.1.0; torch/csrc/cuda/Module.cpp THCPModule_memorySnapshot). 2.1's
  entries carry no time at all.
- allocator_settings in _snapshot(): from 2.3 on (PR #119404, 2024-02).
- compile_context and user_metadata in history entries: newer releases (present on main,
  absent from the 2.1-2.5 era Module.cpp; the exact first release was not pinned down).
- _record_memory_history clears the ring on every call in 2.1 (recordHistory:
  alloc_trace->clear() unconditionally); later releases clear it only when recording is
  switched off (and, where it exists, with clear_history=True)."""
import os
import re

TEXT = os.environ.get("FAKETORCH_VERSION", "").strip() or "2.6.0"
_m = re.match(r"(\d+)\.(\d+)", TEXT)
VERSION = (int(_m.group(1)), int(_m.group(2))) if _m else (2, 6)


def at_least(major, minor):
    return VERSION >= (major, minor)
