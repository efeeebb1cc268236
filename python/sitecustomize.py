"""gpuprof's start-up hook for Python programs run under libgpuprof.so.

libgpuprof.so puts this file's directory first on PYTHONPATH, so CPython imports it at start.
It arms gpuprof's PyTorch adapter (gpuprof_torch: nothing happens until the program imports
torch), then loads the sitecustomize the program would have had without gpuprof, so that one
still runs, and takes this directory off sys.path again so it shadows nothing. It never
raises an error of its own; an error in the user's sitecustomize reaches site.py just as it
would without gpuprof. See docs/pytorch.md."""


def _gpuprof_boot():
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    try:
        import gpuprof_torch
        gpuprof_torch.install()
    except Exception as e:  # pragma: no cover - install() catches everything itself
        try:
            sys.stderr.write(f"gpuprof: the PyTorch adapter did not start ({e!r})\n")
        except Exception:
            pass

    def ours(entry):
        try:
            return bool(entry) and os.path.abspath(entry) == here
        except Exception:
            return False

    # Chain to the user's own sitecustomize (as ddtrace does): ours out of the way, theirs
    # imported under the same name; ours comes back only if there is none.
    sys.path[:] = [p for p in sys.path if not ours(p)]
    me = sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # noqa: F401  (the user's, found further down sys.path)
    except ImportError as e:
        if getattr(e, "name", None) != "sitecustomize":
            raise
        if me is not None:
            sys.modules["sitecustomize"] = me


_gpuprof_boot()
del _gpuprof_boot
