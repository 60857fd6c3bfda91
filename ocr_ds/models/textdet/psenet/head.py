"""``PSEHead``: one 1x1 conv from the neck's map to K kernel logits (MMOCR 0.6.3's PSEHead).

MMOCR's PSEHead is its PANHead with other defaults and ``init_cfg=None``: PANHead's
Normal(std=0.01) init of ``out_conv`` is *not* applied, so ``out_conv`` keeps torch's default
Conv2d initialisation. That is the effective initialisation reproduced here (``init_cfg`` may
still ask for another).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ocr_ds.models.textdet.panet.head import PANHead


class PSEHead(PANHead):
    """PSENet head: ``out_channels`` kernel logits, the text map first, then kernels shrinking
    to the smallest, at ``downsample_ratio`` of the input resolution.

    Args:
        in_channels: Channels of the neck's map, as a list (MMOCR's spelling); summed when the
            head is given several maps (concatenated).
        out_channels: Number of kernels. Defaults to 7 (MMOCR's configs).
        downsample_ratio: Output resolution / input resolution. Defaults to 0.25.
        loss: Defaults to ``dict(type='PSELoss')``.
        postprocessor: Defaults to ``dict(type='PSEPostprocessor', text_repr_type='poly')``.
        init_cfg: Defaults to None (torch's default init, as MMOCR's PSEHead).
        text_repr_type, decoding_type: MMOCR's deprecated spellings of the postprocessor's keys.
    """

    def __init__(self, in_channels: Sequence[int] | int, out_channels: int = 7,
                 downsample_ratio: float = 0.25, loss: Mapping = dict(type="PSELoss"),
                 postprocessor: Mapping = dict(type="PSEPostprocessor", text_repr_type="poly"),
                 train_cfg: Any = None, test_cfg: Any = None, init_cfg: Any = None,
                 text_repr_type: str | None = None, decoding_type: str | None = None):
        super().__init__(in_channels, out_channels, downsample_ratio, loss, postprocessor,
                         train_cfg, test_cfg, init_cfg, text_repr_type, decoding_type)
