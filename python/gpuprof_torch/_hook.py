"""A post-import hook that never imports anything itself: a sys.meta_path finder that asks
the other finders for a module's spec and wraps its loader, so that a callback runs right
after the module finished executing. One shot: it leaves sys.meta_path when it fires."""
import sys


class _Loader:
    """The module's own loader, with a callback after exec_module. Everything else goes
    to the original, which is also put back on the module before it executes."""

    def __init__(self, loader, callback):
        self._gp_loader, self._gp_callback = loader, callback

    def create_module(self, spec):
        create = getattr(self._gp_loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module):
        loader = self._gp_loader
        try:
            module.__loader__ = loader
            if getattr(module, "__spec__", None) is not None:
                module.__spec__.loader = loader
        except Exception:
            pass
        loader.exec_module(module)
        self._gp_callback(module)  # the callback catches everything itself

    def __getattr__(self, name):
        return getattr(self._gp_loader, name)


class _Finder:
    def __init__(self, name, callback):
        self.name, self.callback, self.busy = name, callback, False

    def find_spec(self, name, path=None, target=None):
        if name != self.name or self.busy:
            return None
        self.busy = True
        try:
            spec = None
            for finder in list(sys.meta_path):
                find = getattr(finder, "find_spec", None)
                if finder is self or find is None:
                    continue
                spec = find(name, path, target)
                if spec is not None:
                    break
        finally:
            self.busy = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        spec.loader = _Loader(spec.loader, self.callback)
        return spec


def when_imported(name, callback):
    """callback(module) right after `import name` finished (at once if it already has)."""
    module = sys.modules.get(name)
    if module is not None and getattr(getattr(module, "__spec__", None), "_initializing", False) is False:
        callback(module)
        return
    sys.meta_path.insert(0, _Finder(name, callback))
