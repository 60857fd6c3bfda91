"""``BaseModule``: mmcv 1.x's ``init_cfg`` / ``init_weights`` protocol, which MMOCR's models use.

What a model's weights are after ``init_weights()`` is decided by this walk, not by reading an
``init_cfg`` alone, and MMOCR's numbers depend on it:

1. a module with an ``init_cfg`` first applies it to every layer of its subtree whose class
   (or a direct base class) ``layer=`` names (:func:`ocr_ds.models.common.init.initialize`);
   a ``Pretrained`` ``init_cfg`` ends the walk there;
2. then every *direct child* that has an ``init_weights`` method runs it, in registration
   order -- so a child's own init (e.g. :class:`~ocr_ds.models.common.conv_module.ConvModule`'s
   Kaiming) overwrites what its parent's ``init_cfg`` just did, and a layer inside a plain
   ``nn.Sequential``/``nn.ModuleList`` (which have no ``init_weights``) keeps its parent's.

The containers below are the ``BaseModule`` versions mmcv's models use (their children are
walked); use torch's own where MMOCR does.

The builder (:func:`ocr_ds.engine.builder.build_model`) calls ``init_weights()`` once on the
whole model, after construction and before ``--load-from``, as MMOCR's ``tools/train.py``.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping

import torch.nn as nn

from ocr_ds.models.common.init import initialize


class BaseModule(nn.Module):
    """``nn.Module`` with mmcv's ``init_cfg`` (a dict or list of dicts, or None)."""

    def __init__(self, init_cfg: Mapping | list | None = None):
        super().__init__()
        self._is_init = False
        self.init_cfg = copy.deepcopy(init_cfg)

    @property
    def is_init(self) -> bool:
        return self._is_init

    def init_weights(self) -> None:
        """Apply ``init_cfg``, then the children's own ``init_weights`` (once per module)."""
        if self._is_init:
            return
        if self.init_cfg:
            initialize(self, self.init_cfg)
            if isinstance(self.init_cfg, Mapping) and self.init_cfg.get("type") == "Pretrained":
                return              # the loaded weights must not be overwritten below
        for child in self.children():
            if hasattr(child, "init_weights"):
                child.init_weights()
        self._is_init = True


class ShowResultMixin:
    """MMOCR's ``model.show_result(img, result, ...)`` for detectors, recognisers and KIE
    models (:func:`ocr_ds.engine.show.show_result`); ``show_args`` names the positional
    arguments after ``result`` as each MMOCR family orders them."""

    show_args: tuple[str, ...] = ("score_thr", "bbox_color", "text_color", "thickness",
                                  "font_scale", "win_name", "show", "wait_time", "out_file")

    def show_result(self, img: Any, result: Mapping, *args: Any, **kwargs: Any) -> Any:
        from ocr_ds.engine.show import show_result

        if len(args) > len(self.show_args):
            raise TypeError(f"show_result takes at most {len(self.show_args) + 2} positional "
                            f"arguments ({len(args) + 2} given)")
        kwargs.update(zip(self.show_args, args))
        kwargs.setdefault("show_score", bool(getattr(self, "show_score", False)))
        return show_result(img, result, **self.show_settings(), **kwargs)

    def show_settings(self) -> dict[str, Any]:
        """What the model adds to its pictures (a KIE model: class names, open set)."""
        return {}


RECOGNISER_SHOW_ARGS = ("gt_label", "win_name", "show", "wait_time", "out_file")


class Sequential(BaseModule, nn.Sequential):
    """``nn.Sequential`` whose children are walked by ``init_weights``."""

    def __init__(self, *args: nn.Module, init_cfg: Any = None):
        BaseModule.__init__(self, init_cfg)
        nn.Sequential.__init__(self, *args)


class ModuleList(BaseModule, nn.ModuleList):
    """``nn.ModuleList`` whose children are walked by ``init_weights``."""

    def __init__(self, modules: Iterable[nn.Module] | None = None, init_cfg: Any = None):
        BaseModule.__init__(self, init_cfg)
        nn.ModuleList.__init__(self, modules)


def call_weightless(module: nn.Module, *args: Any, **kwargs: Any) -> Any:
    """``module(*args, **kwargs)`` for a module that holds no parameters (a loss, RoIAlign),
    without running its hooks.

    DeepSpeed ZeRO-3 hooks every module to gather its weights while it runs, and records the
    order the modules ran in, which must be the same on every rank (it stops, or waits forever
    in a collective, where it is not). A model that runs a weightless module for some data only
    (a loss only when there are positives; an FPN level's RoI pooling only where RoIs fall)
    calls it through here: there is nothing to gather, so it stays out of that record."""
    assert next(module.parameters(), None) is None, type(module).__name__
    return module.forward(*args, **kwargs)


class ModuleDict(BaseModule, nn.ModuleDict):
    """``nn.ModuleDict`` whose children are walked by ``init_weights``."""

    def __init__(self, modules: Mapping[str, nn.Module] | None = None, init_cfg: Any = None):
        BaseModule.__init__(self, init_cfg)
        nn.ModuleDict.__init__(self, modules)
