"""``SegConvertor``: SegOCR's classes and its decoding of class maps into text (MMOCR 0.6.3's
``convertors/seg.py``).

Classes: ``['<BG>', dictionary..., '<UKN>' (with_unknown)]``: 0 is the background, so a
character's class is its dictionary index + 1. ``str2idx`` (used by ``OCRSegTargets``) maps
characters to classes, lower-cased first when ``lower``.

Decoding (``tensor2str``), per image, as MMOCR:

1. per pixel the best class over the columns ``[0, int(W * valid_ratio + 1))``;
2. connected components (OpenCV, 8-connectivity) of the non-background pixels;
3. each component's class is its most frequent one (the lowest class on a tie), its score
   that class's share of the component's pixels;
4. components sorted left to right by centroid; those whose winning class covers fewer than 20
   pixels are dropped; ``<UKN>`` (and any class outside the dictionary) contributes no
   character but keeps its score, so ``len(scores)`` can exceed ``len(text)``.
"""
from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np
import torch

from ocr_ds.errors import UserError, bad_value
from ocr_ds.models.textrecog.convertors.attn import BaseConvertor

MIN_CHAR_PIXELS = 20  # MMOCR's fixed threshold on a component's winning-class pixel count


class SegConvertor(BaseConvertor):
    """Args:
        dict_type, dict_file, dict_list: The dictionary (see ``BaseConvertor``). Defaults to
            ``'DICT36'``.
        with_unknown: Add an ``<UKN>`` class. Defaults to True.
        lower: Lower-case texts before converting. Defaults to False.
    """

    def __init__(self, dict_type: str = "DICT36", dict_file: str | None = None,
                 dict_list: Sequence[str] | None = None, with_unknown: bool = True,
                 lower: bool = False, **kwargs: Any):
        key = kwargs.pop("key", "model.label_convertor")
        super().__init__(dict_type, dict_file, dict_list, key=key)
        for name, value in (("with_unknown", with_unknown), ("lower", lower)):
            if not isinstance(value, bool):
                raise bad_value(f"{key}.{name}", value, "True or False")
        self.with_unknown = with_unknown
        self.lower = lower
        self.idx2char.insert(0, "<BG>")
        self.unknown_idx = None
        if with_unknown:
            self.idx2char.append("<UKN>")
            self.unknown_idx = len(self.idx2char) - 1
        self.char2idx = {char: idx for idx, char in enumerate(self.idx2char)}

    def tensor2str(self, output: torch.Tensor, img_metas: Sequence[dict]
                   ) -> tuple[list[str], list[list[float]]]:
        """``(N, C, H, W)`` class scores -> texts and per-character scores (module docstring).

        Each meta needs ``valid_ratio`` (the share of the batch width holding the image).
        """
        if len(img_metas) != output.size(0):
            raise UserError(f"{self.key}: {len(img_metas)} img_metas for a batch of "
                            f"{output.size(0)}")
        texts, scores = [], []
        for b in range(output.size(0)):
            valid_width = int(output.size(-1) * img_metas[b]["valid_ratio"] + 1)
            seg = torch.argmax(output[b].detach()[:, :, :valid_width], dim=0)
            text, char_scores = self._decode(seg.cpu().numpy().astype(np.int32))
            texts.append(text)
            scores.append(char_scores)
        return texts, scores

    def _decode(self, seg: np.ndarray) -> tuple[str, list[float]]:
        """One ``(H, W)`` class map -> text and character scores."""
        fg = np.where(seg == 0, 0, 255).astype(np.uint8)
        count, labels, _, centroids = cv2.connectedComponentsWithStats(fg)
        n_cls = len(self.idx2char)
        # per component, the pixel count of each class; classes beyond the dictionary (a map
        # with more channels than classes) are not counted, as MMOCR's loop never sees them
        inside = (seg >= 0) & (seg < n_cls)
        hist = np.bincount(labels[inside].astype(np.int64) * n_cls + seg[inside],
                           minlength=count * n_cls).reshape(count, n_cls)
        found = []
        for i in range(count):
            best = int(np.argmax(hist[i]))  # the first class of the largest count
            best_num = int(hist[i, best])
            if best_num and best == 0:  # the background component
                continue
            # an empty component (the background label of a map without background) stays in
            # the sort, as in MMOCR, where its centroid (NaN) can reorder the others; it is
            # dropped below by the pixel threshold
            score = best_num / int(hist[i].sum()) if best_num else float("nan")
            found.append((centroids[i][0], best, best_num, score))
        found.sort(key=lambda r: r[0])  # stable: equal centroids keep label order, as MMOCR
        chars, char_scores = [], []
        for _, cls, num, score in found:
            if num < MIN_CHAR_PIXELS:
                continue
            chars.append("" if cls in (0, self.unknown_idx) else self.idx2char[cls])
            char_scores.append(float(score))
        return "".join(chars), char_scores
