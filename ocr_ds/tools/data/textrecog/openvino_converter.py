"""OpenVINO's text annotations of Open Images -> word crops and labels (MMOCR 0.6.3's
``tools/data/textrecog/openvino_converter.py``, same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.openvino_converter data/openvino 4

Reads ``ROOT/text_spotting_openimages_v5_train_{1,2,5,f}.json`` and
``..._validation.json`` (COCO files whose annotations carry ``attributes``: ``transcription``,
``legible``, ``language``) with the JPEG images they name under ROOT; every legible English word
becomes the crop of its box (floored corner, ceiled size) saved by Pillow with the source's
quantization tables, ``ROOT/image_<s>/img_<i>_<j>.jpg`` (``i`` the image's index, continuing
from the previous file's image count as MMOCR continues it; ``j`` the annotation's), labelled
in ``ROOT/train_<s>_label.txt`` / ``ROOT/val_label.txt``. Nothing is moved into place until
every file converted. Differs: an image without annotations gets no crops (MMOCR: a
traceback); a missing file, a non-JPEG image or a malformed annotation is a one-line error.
"""
from __future__ import annotations

import math
import os
from functools import partial
from typing import Any, Sequence

from ocr_ds.datasets.textdet.coco_convert import map_images, read_json_file
from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.tools.data.textrecog._common import Staging, lines_text

PARTS = [(f"image_{s}", f"train_{s}_label.txt", f"text_spotting_openimages_v5_train_{s}.json")
         for s in "125f"] + [("image_val", "val_label.txt",
                              "text_spotting_openimages_v5_validation.json")]


def process_img(task: tuple[int, dict, list], src_root: str, dst_dir: str,
                label_dir: str) -> list[str]:
    """One image's crops (into ``dst_dir``) and label lines."""
    from PIL import Image, UnidentifiedImageError

    img_idx, img_info, anns = task
    path = os.path.join(src_root, img_info["file_name"])
    try:
        src_img = Image.open(path)
    except (OSError, UnidentifiedImageError) as exc:
        raise UserError(f"{path}: not a readable image ({exc})") from None
    with src_img:
        qtables = getattr(src_img, "quantization", None)
        if not qtables:
            raise UserError(f"{path}: expected a JPEG image (its quantization tables are kept)")
        labels = []
        for ann_idx, ann in enumerate(anns):
            attrs = ann["attributes"]
            if not attrs["legible"] or attrs["language"] != "english":
                continue
            x, y, w, h = ann["bbox"]
            x, y = max(0, math.floor(x)), max(0, math.floor(y))
            w, h = math.ceil(w), math.ceil(h)
            name = f"img_{img_idx}_{ann_idx}.jpg"
            src_img.crop((x, y, x + w, y + h)).save(os.path.join(dst_dir, name),
                                                    qtables=qtables)
            labels.append(f"{label_dir}/{name} {attrs['transcription']}")
    return labels


def read_tasks(path: str, start_idx: int) -> list[tuple[int, dict, list]]:
    """``(index, image info, its annotations)`` of every image of one annotation file."""
    if not os.path.exists(path):
        raise UserError(f"{path} not exists, please check and try again.")
    data = read_json_file(path, "OpenVINO annotation file")
    try:
        anns: dict[Any, list] = {}
        for ann in data["annotations"]:
            attrs = ann["attributes"]
            attrs["transcription"], attrs["legible"], attrs["language"]
            if len(ann["bbox"]) != 4:
                raise ValueError
            anns.setdefault(ann["image_id"], []).append(ann)
        return [(i + start_idx, info, anns.get(info["id"], []))
                for i, info in enumerate(data["images"])]
    except (KeyError, TypeError, ValueError):
        raise UserError(f'{path}: expected COCO "images" (id, file_name) and "annotations" '
                        f'(image_id, bbox [x, y, w, h], attributes: transcription, legible, '
                        f'language)') from None


def convert(root: str, nproc: int) -> list[str]:
    tasks, start = [], 0
    for _, _, ann_file in PARTS:
        part = read_tasks(os.path.join(root, ann_file), start)
        tasks.append(part)
        start = len(part)  # MMOCR: the previous file's image count, not a running total
    texts = {}
    with Staging(root) as stage:
        for (dst, label_file, _), part in zip(PARTS, tasks):
            print(f"Processing {label_file}...")
            os.makedirs(stage.path(dst))
            labels = map_images(partial(process_img, src_root=root, dst_dir=stage.path(dst),
                                        label_dir=dst), part, nproc)
            texts[label_file] = lines_text([line for lines in labels for line in lines])
        return stage.commit(texts, dirs=tuple(dst for dst, _, _ in PARTS))


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.openvino_converter",
                  description="Generate training and validation set of OpenVINO annotations "
                              "for Open Images by cropping box image.")
    p.add_argument("root_path", help="Root dir containing images and annotations")
    p.add_argument("n_proc", nargs="?", default=1, type=int,
                   help="Number of processes to run (1)")
    args = p.parse_args(argv)
    for path in convert(args.root_path, args.n_proc):
        print(f"wrote {path}")
    print("Finish")
    return 0


if __name__ == "__main__":
    run_cli(main)
