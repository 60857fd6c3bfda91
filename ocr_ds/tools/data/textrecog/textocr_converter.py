"""TextOCR word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/
textocr_converter.py``, same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.textocr_converter data/textocr 4

``N_PROC`` is positional (and required), as MMOCR's. Reads ``ROOT/TextOCR_0.1_{train,val}.json``
and the images they name under ROOT; writes the box crop of every word that is not ``.``
(illegible) as ``ROOT/image/img_<i>_<k>.jpg`` (``i`` counts the images of both files, training
first) and the lines ``image/img_<i>_<k>.jpg WORD`` of ``ROOT/train_label.txt`` /
``ROOT/val_label.txt``. An empty crop (a box of no size, or outside the image) is left out.
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import map_images
from ocr_ds.datasets.textdet.json_gt import coco_text_images, field, floor_box, load_json
from ocr_ds.errors import CliParser, run_cli
from ocr_ds.tools.data.textrecog._common import Staging, label_line, report
from ocr_ds.tools.data.textrecog._crops import crop_boxes

SPLITS = {"train_label.txt": "TextOCR_0.1_train.json", "val_label.txt": "TextOCR_0.1_val.json"}


def convert(root: str, nproc: int) -> None:
    annotations = {}
    for name in SPLITS.values():
        path = os.path.join(root, name)
        annotations[name] = (path, load_json(path, "TextOCR annotation file"))
    with Staging(root) as stage:
        labels, start = {}, 0
        for label_file, name in SPLITS.items():
            path, annotation = annotations[name]
            jobs = []
            for img_idx, img_info, anns in coco_text_images(annotation, path, str_ids=False):
                crops = []
                for ann_idx, ann in enumerate(anns):
                    text = field(ann, "utf8_string", f"{path}: annotation {ann.get('id')!r}", str)
                    if text == ".":
                        continue
                    dst = f"image/img_{start + img_idx}_{ann_idx}.jpg"
                    crops.append((dst, floor_box(ann["bbox"]), label_line(dst, text, "txt")))
                src = os.path.join(root, field(img_info, "file_name", path, str))
                jobs.append((src, stage.tmp, crops))
            labels[os.path.join(root, label_file)] = [
                line for lines in map_images(crop_boxes, jobs, nproc) for line in lines]
            start += len(annotation["imgs"])
        report(stage.commit(labels, ["image"]))


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.textocr_converter",
                  description="Generate training and validation set of TextOCR by cropping box "
                  "image")
    p.add_argument("root_path", help="Root dir path of TextOCR")
    p.add_argument("n_proc", type=int, help="Number of processes to run")
    args = p.parse_args(argv)
    convert(args.root_path, args.n_proc)
    return 0


if __name__ == "__main__":
    run_cli(main)
