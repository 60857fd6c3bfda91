"""``ocr_ds/train.py`` recording, per Mask R-CNN forward, which data-dependent branches it took
(test_maskrcnn_zero3).

Run as the training script (``deepspeed --num_gpus 2 zero3_probe.py --config ...``). Each
rank writes ``<work dir>/branches_rank<RANK>.json``: ``{"train": [...], "test": [...]}``, one
entry per forward: in training, how many times OHEM mined (``mined``), the positives
(``positives``) and the RoIs pooled from a level above the first (``upper``); in testing, the
proposals (``proposals``) and the detections whose masks were made (``detections``).
"""
from __future__ import annotations

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
sys.path.insert(0, ROOT)
records: dict[str, list[dict]] = {"train": [], "test": []}


def wrap(cls, name, before):
    original = getattr(cls, name)

    def wrapper(self, *args, **kwargs):
        before(self, *args, **kwargs)
        return original(self, *args, **kwargs)
    setattr(cls, name, wrapper)


def install() -> None:
    from ocr_ds.models.common.roi_extractor import SingleRoIExtractor
    from ocr_ds.models.textdet.maskrcnn.assign_sample import OHEMSampler
    from ocr_ds.models.textdet.maskrcnn.mask_head import FCNMaskHead
    from ocr_ds.models.textdet.maskrcnn.ocr_mask_rcnn import OCRMaskRCNN
    from ocr_ds.models.textdet.maskrcnn.roi_head import StandardRoIHead

    def entry(kind):
        return records[kind][-1]

    wrap(OCRMaskRCNN, "forward_train",
         lambda self, *a: records["train"].append(dict(mined=0, positives=0, upper=0)))
    wrap(OCRMaskRCNN, "simple_test",
         lambda self, *a, **k: records["test"].append(dict(proposals=0, detections=0)))

    def mined(self, inds, *a, **k):
        entry("train")["mined"] += 1
    wrap(OHEMSampler, "_pick", mined)

    def positives(self, mask_pred, *a):
        entry("train")["positives"] += int(mask_pred.size(0))
    wrap(FCNMaskHead, "loss", positives)

    def levels(self, feats, rois):
        if self.training and len(rois):
            entry("train")["upper"] += int((self.map_roi_levels(rois, len(feats)) > 0).sum())
    wrap(SingleRoIExtractor, "_pool", levels)

    def tested(self, x, proposals, *a, **k):
        entry("test")["proposals"] += sum(len(p) for p in proposals)
    wrap(StandardRoIHead, "simple_test", tested)

    def masks(self, x, rois):
        if not self.training:
            entry("test")["detections"] += int(rois.shape[0])
    wrap(StandardRoIHead, "_mask_forward", masks)


def dump(work_dir: str) -> None:
    rank = os.environ.get("RANK", "0")
    if os.path.isdir(work_dir):
        with open(os.path.join(work_dir, f"branches_rank{rank}.json"), "w") as f:
            json.dump(records, f)


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(ROOT, "tests", "engine"))
    import helpers

    helpers.train_with_probe(install, dump)
