"""Total-Text word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/
totaltext_converter.py``, same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.totaltext_converter data/totaltext [--nproc 4]

Reads ``ROOT/imgs/{training,test}`` with ``ROOT/annotations/{training,test}`` (``.txt`` or
``.mat``, see ``ocr_ds.datasets.textdet.totaltext_gt``) and writes, for each region that is not
don't-care, the crop of its padded box (MMOCR's ``crop_img``, image read in colour as
``mmcv.imread`` reads it) as ``ROOT/dst_imgs/<split>/<image stem>_<k>.png`` and the lines
``<split>/<image stem>_<k>.png WORD`` of ``ROOT/train_label.txt`` / ``ROOT/test_label.txt``.
The crops are made in a hidden folder under ROOT and moved into place only when every split
converted; bad input leaves nothing behind.
"""
from __future__ import annotations

import os
import shutil
from typing import Sequence

from ocr_ds.datasets.pipelines.crop import crop_img
from ocr_ds.datasets.textdet.coco_convert import map_images, polygon_bounds, require_dirs
from ocr_ds.datasets.textdet.totaltext_gt import DONT_CARE, pair_files, read_totaltext
from ocr_ds.errors import CliParser, UserError, run_cli

SPLITS = {"training": "train_label.txt", "test": "test_label.txt"}


def crop_words(job: tuple[str, str, str, str]) -> list[str]:
    """Write one image's word crops into ``out_dir``; their label lines."""
    import cv2

    from ocr_ds.tools._infer_common import read_images

    img_file, gt_file, split, out_dir = job
    words = []
    for contour, word in read_totaltext(gt_file):
        if contour.shape[0] == 2 or word == DONT_CARE:
            continue
        _, (min_x, min_y, max_x, max_y) = polygon_bounds(contour, gt_file)
        words.append((word, [min_x, min_y, max_x, min_y, max_x, max_y, min_x, max_y]))
    image = read_images([img_file])[0]
    stem = os.path.splitext(os.path.basename(img_file))[0]
    lines = []
    for word, box in words:
        crop = crop_img(image, box)
        if min(crop.shape) == 0:
            continue
        name = f"{stem}_{len(lines) + 1}.png"
        ok, buf = cv2.imencode(".png", crop)
        if not ok:  # pragma: no cover - a uint8 BGR crop always encodes
            raise UserError(f"{img_file}: PNG encoding of a crop failed")
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(buf.tobytes())
        lines.append(f"{split}/{name} {word}")
    return lines


def convert(root: str, nproc: int = 1) -> list[str]:
    require_dirs(root, SPLITS)
    jobs = {split: pair_files(os.path.join(root, "imgs", split),
                              os.path.join(root, "annotations", split)) for split in SPLITS}
    tmp = os.path.join(root, f".dst_imgs.tmp.{os.getpid()}")
    try:
        labels = {}
        for split, files in jobs.items():
            print(f"Converting {split} into {SPLITS[split]}")
            os.makedirs(os.path.join(tmp, split))
            per_image = map_images(crop_words, [(img, gt, split, os.path.join(tmp, split))
                                                for img, gt in files], nproc)
            labels[split] = "".join(f"{line}\n" for lines in per_image for line in lines)
            print(f"{split}: {labels[split].count(chr(10))} word images")
        from ocr_ds.atomic import atomic_write

        for split in SPLITS:
            dst = os.path.join(root, "dst_imgs", split)
            os.makedirs(dst, exist_ok=True)
            for name in sorted(os.listdir(os.path.join(tmp, split))):
                os.replace(os.path.join(tmp, split, name), os.path.join(dst, name))
            atomic_write(os.path.join(root, SPLITS[split]), labels[split])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [os.path.join(root, name) for name in SPLITS.values()]


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.totaltext_converter",
                  description="Convert totaltext annotations to word crops and label files")
    p.add_argument("root_path", help="Totaltext root path (with imgs/ and annotations/)")
    p.add_argument("--nproc", default=1, type=int, help="number of processes (1)")
    args = p.parse_args(argv)
    for path in convert(args.root_path, args.nproc):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    run_cli(main)
