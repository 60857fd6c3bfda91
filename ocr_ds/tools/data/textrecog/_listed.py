"""The word-crop converters of RCTW, ReCTS and MTWI (MMOCR 0.6.3's ``tools/data/textrecog/
{rctw,rects,mtwi}_converter.py``): every region that is not don't-care, cropped to its corners'
box clipped to the image (``crop_img(img, box, 0, 0)``), as ``ROOT/crops/<split>/<image stem>_<k>
.png`` (``k`` from 1 over the image's kept regions; an empty crop is left out, its ``k`` used),
labelled ``<split>/<name> TEXT`` (or JSON lines, non-ASCII kept) in ``ROOT/train_label.<format>``
(``val_label`` with ``--val-ratio``). Crops more than twice as high as wide go to
``ROOT/ignores/<split>``, unlabelled, unless ``--preserve-vertical`` (ReCTS, MTWI: training only;
RCTW: both splits, as MMOCR's)."""
from __future__ import annotations

import os
from typing import Any, Sequence

from ocr_ds.datasets.pipelines.crop import crop_img
from ocr_ds.datasets.textdet.coco_convert import map_images
from ocr_ds.datasets.textdet.json_gt import check_ratio
from ocr_ds.datasets.textdet.listed_gt import READERS, listed_pairs, read_listed_image
from ocr_ds.errors import CliParser, UserError
from ocr_ds.tools.data.textrecog._common import (Staging, add_format, label_line,
                                                report, write_image)
from ocr_ds.tools.data.textrecog._crops import add_crop_args

SPLITS = {"training": "train", "val": "val"}


def crop_listed(job: tuple) -> list[str]:
    """One image's crops written under the staging folder; their label lines."""
    img_file, gt_file, dataset, split, stage, fmt, keep_vertical, converted = job
    regions = [r for r in READERS[dataset](gt_file) if not r[2]]
    for box, word, _ in regions:
        if len(box) != 8:
            raise UserError(f"{gt_file}: {box!r}: a region to crop must have 4 corners "
                            "(MMOCR's crop_img)")
        if not isinstance(word, str):
            raise UserError(f"{gt_file}: 'transcription' must be a string (got {word!r})")
    if not regions:
        return []
    img = read_listed_image(img_file, converted)
    stem = os.path.splitext(os.path.basename(img_file))[0]
    lines = []
    for index, (box, word, _) in enumerate(regions, 1):
        crop = crop_img(img, box, 0, 0)
        if min(crop.shape) == 0:
            continue
        name = f"{stem}_{index}.png"
        h, w = crop.shape[:2]
        if not keep_vertical and h / w > 2:
            write_image(os.path.join(stage, "ignores", split, name), crop)
            continue
        write_image(os.path.join(stage, "crops", split, name), crop)
        lines.append(label_line(f"{split}/{name}", word, fmt, ensure_ascii=False))
    return lines


def convert_listed_crops(argv: Sequence[str] | None, name: str, dataset: str) -> int:
    from ocr_ds.tools.data.textdet._common import write_converted

    p = CliParser(prog=f"python -m ocr_ds.tools.data.textrecog.{name}",
                  description=f"Generate training and val set of {dataset}.")
    p.add_argument("root_path", help=f"Root dir path of {dataset}")
    p.add_argument("--val-ratio", default=0.0, type=float, help="Split ratio for val set (0.0)")
    add_crop_args(p, nproc=dataset != "MTWI")
    add_format(p)
    if dataset == "MTWI":
        p.add_argument("--nproc", default=1, type=int, help="Number of process (1)")
    args = p.parse_args(argv)
    root, converted = args.root_path, {} if dataset == "MTWI" else None
    splits = listed_pairs(root, dataset, check_ratio(args.val_ratio), converted)
    with Staging(root) as stage:
        labels: dict[str, list[str]] = {}
        done = []
        for (split, prefix), files in zip(SPLITS.items(), splits):
            if not files and split == "val":
                continue
            keep = args.preserve_vertical or (split != "training" and dataset != "RCTW")
            jobs: list[Any] = [(img, gt, dataset, split, stage.tmp, args.format, keep,
                                converted or {}) for img, gt in files]
            labels[os.path.join(root, f"{prefix}_label.{args.format}")] = [
                line for lines in map_images(crop_listed, jobs, args.nproc) for line in lines]
            done.append(split)
        write_converted(converted)
        report(stage.commit(labels, [f"{d}/{s}" for s in done for d in ("crops", "ignores")]))
    return 0
