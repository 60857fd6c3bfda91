"""COCO-Text v2 word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/
cocotext_converter.py``, same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.cocotext_converter data/coco_textv2 \\
        [--nproc 4] [--preserve-vertical] [--format {jsonl,txt}]

Reads ``ROOT/annotations/cocotext.v2.json`` and ``ROOT/imgs/<file_name>``; writes the box crop
of every legible English word as ``ROOT/crops/<split>/img_<i>_<k>.jpg`` (``i``: the image's
place in the file; validation counts on after all images) and its line in
``ROOT/<split>_label.<format>`` (``<split>/img_<i>_<k>.jpg WORD``, or JSON lines). Training
crops more than twice as high as wide go to ``ROOT/ignores/train`` instead, unlabelled, unless
``--preserve-vertical``. An empty crop is left out.
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import map_images
from ocr_ds.datasets.textdet.json_gt import coco_text_images, field, floor_box, load_json
from ocr_ds.errors import CliParser, run_cli
from ocr_ds.tools.data.textdet.cocotext_converter import ANNOTATION, is_ignored
from ocr_ds.tools.data.textrecog._common import Staging, add_format, label_line, report
from ocr_ds.tools.data.textrecog._crops import add_crop_args, crop_boxes

SPLITS = ("train", "val")


def split_crops(split: str, box: list[int], name: str, text: str, fmt: str,
                preserve_vertical: bool) -> tuple[str, list[int], str | None]:
    """Where a crop goes, and its label line (none for an ignored vertical training crop)."""
    x, y, w, h = box
    if not preserve_vertical and split == "train" and w > 0 and h / w > 2:
        return f"ignores/{split}/{name}", box, None
    return f"crops/{split}/{name}", box, label_line(f"{split}/{name}", text, fmt)


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.cocotext_converter",
                  description="Generate training and validation set of COCO Text v2")
    p.add_argument("root_path", help="Root dir path of COCO Text v2")
    add_crop_args(p)
    add_format(p)
    args = p.parse_args(argv)
    root = args.root_path
    path = os.path.join(root, ANNOTATION)
    annotation = load_json(path, "COCO-Text annotation file")
    with Staging(root) as stage:
        labels = {}
        for start, split in zip((0, len(field(annotation, "imgs", path, dict))), SPLITS):
            jobs = []
            for img_idx, img_info, anns in coco_text_images(annotation, path, str_ids=True):
                if field(img_info, "set", f"{path}: image {img_info['id']!r}") != split:
                    continue
                crops = []
                for ann_idx, ann in enumerate(anns):
                    where = f"{path}: annotation {ann.get('id')!r}"
                    if is_ignored(ann, where):
                        continue
                    crops.append(split_crops(
                        split, floor_box(ann["bbox"]), f"img_{start + img_idx}_{ann_idx}.jpg",
                        field(ann, "utf8_string", where, str), args.format,
                        args.preserve_vertical))
                src = os.path.join(root, "imgs", field(img_info, "file_name", path, str))
                jobs.append((src, stage.tmp, crops))
            labels[os.path.join(root, f"{split}_label.{args.format}")] = [
                line for lines in map_images(crop_boxes, jobs, args.nproc) for line in lines]
        report(stage.commit(labels, [f"{d}/{s}" for s in SPLITS for d in ("crops", "ignores")]))
    return 0


if __name__ == "__main__":
    run_cli(main)
