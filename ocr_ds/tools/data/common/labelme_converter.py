"""LabelMe annotations -> MMOCR's detection line-JSON and recognition crops (MMOCR 0.6.3's
``tools/data/common/labelme_converter.py``, same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.common.labelme_converter JSON_DIR IMAGE_DIR OUT_DIR \\
        [--tasks det recog] [--format {jsonl,txt}] [--warp] [--nproc N]

Every ``JSON_DIR/*.json`` (directory order) names its image (``imagePath``, looked up in
IMAGE_DIR by its bare name) and ``shapes``: ``rectangle`` (2 points) and ``polygon`` (4 or more
points; more than 4 are cropped by their bounds) shapes, points truncated to integers, label
``###`` a don't-care region. ``det`` writes ``OUT_DIR/instances_training.txt`` (one line-JSON
per image, UTF-8 text); ``recog`` crops every other labelled shape (MMOCR's padded
``crop_img``) to ``OUT_DIR/crops/<image>/crop_<k>.jpg`` and lists it, by that path, in
``OUT_DIR/train_label.<format>``; ``--warp`` also writes the perspective-corrected quadrangles
``warp_<k>.jpg`` with ``OUT_DIR/warp_train_label.<format>``. A file with another shape type or a
polygon of under 4 points is left out with a warning, as MMOCR leaves it out.
Differs: ``--tasks`` defaults to ``det`` (MMOCR: a traceback without it); a left-out file
leaves no crops behind, nothing is written until every file converted; ``--warp`` works
(MMOCR 0.6.3's ``warp_img`` calls ``np.int``, gone from NumPy 1.24, so there it fails), and it
warps each 4-point polygon, where MMOCR stops warping for the rest of a file after its first
rectangle or longer polygon.
"""
from __future__ import annotations

import glob
import json
import os
import sys
from functools import partial
from typing import Any, Sequence

from ocr_ds.datasets.pipelines.crop import crop_img, warp_img
from ocr_ds.datasets.textdet.coco_convert import map_images, read_json_file, write_outputs
from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.tools.data.textrecog._common import (Staging, add_format, encode_image, label_line,
                                                 lines_text, write_file)

IGNORE = "###"


def _shapes(obj: Any, json_file: str) -> tuple[str, int, int, list]:
    try:
        shapes = [(s["shape_type"], [[int(v) for v in pt] for pt in s["points"]], s["label"])
                  for s in obj["shapes"]]
        if not all(isinstance(label, str) and all(len(pt) == 2 for pt in pts)
                   for _, pts, label in shapes):
            raise ValueError
        return os.path.basename(obj["imagePath"]), obj["imageHeight"], obj["imageWidth"], shapes
    except (KeyError, TypeError, ValueError):
        raise UserError(f'{json_file}: expected LabelMe\'s "imagePath", "imageHeight", '
                        f'"imageWidth" and "shapes" [{{"shape_type", "points": [[x, y], ...], '
                        f'"label"}}, ...]') from None


def parse_labelme_json(json_file: str, img_dir: str, out_dir: str, tasks: Sequence[str],
                       fmt: str, warp: bool) -> tuple[list[str], list, list[str], list[str]]:
    """``(det lines, [(crop path, bytes), ...], crop label lines, warp label lines)``."""
    from ocr_ds.tools._infer_common import read_images

    img_file, height, width, shapes = _shapes(read_json_file(json_file, "LabelMe file"),
                                              json_file)
    recog = "recog" in tasks
    src_img = read_images([os.path.join(img_dir, img_file)])[0] if recog else None
    sub_dir = os.path.join(out_dir, "crops", os.path.splitext(img_file)[0])
    annos, files, crop_lines, warp_lines = [], [], [], []
    idx = 0
    for shape, points, text_label in shapes:
        if shape not in ("rectangle", "polygon"):
            print(f"{json_file}: left out: only 'rectangle' and 'polygon' boxes are supported "
                  f"(got {shape!r})", file=sys.stderr)
            return [], [], [], []
        poly = [v for pt in points for v in pt]
        xs, ys = poly[0::2], poly[1::2]
        warp_this = warp
        if shape == "rectangle":
            if len(poly) < 4:
                raise UserError(f"{json_file}: a rectangle needs 2 points (got {points})")
            warp_this = False
            quad = [poly[0], poly[1], poly[2], poly[1], poly[2], poly[3], poly[0], poly[3]]
        elif len(poly) < 8:
            print(f"{json_file}: left out: invalid polygon {poly} (MMOCR expects 4 or more "
                  f"points)", file=sys.stderr)
            return [], [], [], []
        elif len(poly) == 8:
            quad = poly
        else:
            warp_this = False
            quad = [min(xs), min(ys), max(xs), min(ys), max(xs), max(ys), min(xs), max(ys)]
        annos.append(dict(iscrowd=int(text_label == IGNORE), category_id=1,
                          bbox=[min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)],
                          segmentation=[quad if shape == "rectangle" else poly],
                          text=text_label))
        if not recog:
            idx += 1
            continue
        if text_label == IGNORE or not text_label:
            continue
        path = os.path.join(sub_dir, f"crop_{idx}.jpg")
        files.append((path, encode_image(crop_img(src_img, quad), ".jpg", json_file)))
        crop_lines.append(label_line(path, text_label, fmt))
        if warp_this:
            path = os.path.join(sub_dir, f"warp_{idx}.jpg")
            files.append((path, encode_image(warp_img(src_img, quad), ".jpg", json_file)))
            warp_lines.append(label_line(path, text_label, fmt))
        idx += 1
    det = json.dumps(dict(file_name=img_file, height=height, width=width, annotations=annos),
                     ensure_ascii=False)
    return [det], files, crop_lines, warp_lines


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.common.labelme_converter",
                  description="Convert LabelMe annotations to MMOCR's formats")
    p.add_argument("json_dir", help="Root dir for labelme json file.")
    p.add_argument("image_dir", help="Root dir for image file.")
    p.add_argument("out_dir", help="Dir to save annotations in mmocr format.")
    p.add_argument("--tasks", nargs="+", default=["det"], choices=("det", "recog"),
                   help='Tasks to be processed, "det" (the default) or both: "det recog"')
    p.add_argument("--nproc", type=int, default=1, help="Number of process.")
    add_format(p)
    p.add_argument("--warp", action="store_true", help="Store warpped img for recognition task")
    args = p.parse_args(argv)
    json_files = glob.glob(os.path.join(glob.escape(args.json_dir), "*.json"))
    results = map_images(partial(parse_labelme_json, img_dir=args.image_dir,
                                 out_dir=args.out_dir, tasks=args.tasks, fmt=args.format,
                                 warp=args.warp), json_files, args.nproc)
    det = [line for res in results for line in res[0]]
    outputs = {os.path.join(args.out_dir, "instances_training.txt"): lines_text(det)}
    if "recog" in args.tasks:
        outputs[os.path.join(args.out_dir, f"train_label.{args.format}")] = lines_text(
            [line for res in results for line in res[2]])
        if args.warp:
            outputs[os.path.join(args.out_dir, f"warp_train_label.{args.format}")] = lines_text(
                [line for res in results for line in res[3]])
        os.makedirs(args.out_dir, exist_ok=True)
        with Staging(args.out_dir) as stage:
            for res in results:
                for path, data in res[1]:
                    write_file(stage.path(os.path.relpath(path, args.out_dir)), data)
            stage.commit({}, dirs=tuple(
                os.path.join("crops", os.path.splitext(os.path.basename(
                    read_json_file(f, "LabelMe file")["imagePath"]))[0]) for f in json_files))
    write_outputs(outputs)
    print("finish")
    return 0


if __name__ == "__main__":
    run_cli(main)
