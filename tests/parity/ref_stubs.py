"""Installed into the MMOCR 0.6.3 reference venv (loaded from a ``.pth`` file).

mmcv-lite (``MMCV_WITH_OPS=0``) has no compiled ``mmcv._ext``. ``mmcv.ops`` only checks names
with ``hasattr`` at import, so a module that has every attribute lets mmdet and mmocr import.
The ops the parity tests need (modulated deformable conv, nms, pixel_group, contour_expand,
roi_align_rotated) come from
``ocr_ds_mmcv_ops``, compiled from mmcv's own CPU sources by ``mmcv_ops/build_mmcv_ops.py``;
every other name is a function that raises when called (a test that reaches one fails loudly).
"""
import importlib.abc
import importlib.machinery
import sys
import types

# lanms (lanms-neo, which MMOCR imports at module level) is installed for real
_STUBBED = ("mmcv._ext",)


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if self.__name__ == "mmcv._ext":
            try:
                import ocr_ds_mmcv_ops
                return getattr(ocr_ds_mmcv_ops, name)
            except (ImportError, AttributeError):
                pass

        def unavailable(*args, **kwargs):
            raise RuntimeError(f"{self.__name__}.{name} is a compiled op the reference venv "
                               f"does not have")
        unavailable.__name__ = name
        return unavailable


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname in _STUBBED:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        return _StubModule(spec.name)

    def exec_module(self, module):
        pass


def install():
    if not any(isinstance(f, _StubFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _StubFinder())
