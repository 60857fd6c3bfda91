"""A COCO-style JSON -> MMOCR's line-dict file (MMOCR 0.6.3's
``tools/data/textdet/coco_to_line_dict.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textdet.coco_to_line_dict --in-path instances_training.json \\
        --out-path instances_training.txt

One JSON line per image (``file_name``, ``height``, ``width``, ``annotations``: each with
``iscrowd``, ``category_id``, ``bbox``, ``segmentation``), in the order of ``images``; an image
listed twice keeps its first place and its last entry, an annotation of an image not listed is
left out, as in MMOCR. Such a file is what ``TextDetDataset`` reads with ``LineJsonParser``.
Differs: a missing key or a malformed file is a one-line error and nothing is written (MMOCR: a
``KeyError`` traceback); ``--in-path`` and ``--out-path`` are required (MMOCR: a traceback
without them).
"""
from __future__ import annotations

import json
from typing import Any, Sequence

from ocr_ds.datasets.textdet.coco_convert import read_json_file, write_outputs
from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.tools.data.textrecog._common import lines_text

ANNOTATION_KEYS = ("iscrowd", "category_id", "bbox", "segmentation")


def line_dicts(coco: Any, path: str) -> list[str]:
    """MMOCR's ``parse_coco_json`` + ``gen_line_dict_file``: the JSON lines of ``coco``."""
    try:
        images = {info["id"]: info for info in coco["images"]}
        annotations: dict[Any, list] = {img_id: [] for img_id in images}
        for anno in coco["annotations"]:
            entry = {key: anno[key] for key in ANNOTATION_KEYS}
            if anno["image_id"] in annotations:
                annotations[anno["image_id"]].append(entry)
        return [json.dumps({"file_name": info["file_name"], "height": info["height"],
                            "width": info["width"], "annotations": annotations[img_id]})
                for img_id, info in images.items()]
    except KeyError as exc:
        raise UserError(f"{path}: expected COCO 'images' (id, file_name, height, width) and "
                        f"'annotations' (image_id, {', '.join(ANNOTATION_KEYS)}); missing "
                        f"{exc}") from None
    except TypeError as exc:
        raise UserError(f"{path}: not a COCO-style JSON ({exc})") from None


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textdet.coco_to_line_dict",
                  description="COCO-style JSON -> MMOCR's line-dict file")
    p.add_argument("--in-path", required=True, help="input json path with coco format")
    p.add_argument("--out-path", required=True, help="output txt path with line-json format")
    args = p.parse_args(argv)
    lines = line_dicts(read_json_file(args.in_path, "COCO JSON"), args.in_path)
    write_outputs({args.out_path: lines_text(lines)})
    print("finish")
    return 0


if __name__ == "__main__":
    run_cli(main)
