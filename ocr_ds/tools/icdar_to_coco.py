"""Convert native ICDAR 2015 detection annotations to the COCO JSON ``IcdarDataset`` reads.

::

    python -m ocr_ds.tools.icdar_to_coco IMG_DIR GT_DIR OUT_JSON [--prefix training/]

Pairs every ``img_N.<ext>`` of IMG_DIR with ``GT_DIR/gt_img_N.txt`` (lines
``x1,y1,...,x4,y4,transcription``, UTF-8 with or without BOM; ``###`` = don't care, written as
``iscrowd=1``). ``file_name`` in the JSON is ``PREFIX + image name``: with MMOCR's layout
(``imgs/training``, ``imgs/test``) use ``--prefix training/`` and ``img_prefix=.../imgs``.
"""
from __future__ import annotations

import json
import os
from typing import Sequence

from ocr_ds.datasets.textdet.icdar_txt import icdar_dir_to_coco
from ocr_ds.errors import CliParser, run_cli


def main(argv: Sequence[str] | None = None) -> int:
    parser = CliParser(prog="python -m ocr_ds.tools.icdar_to_coco",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("img_dir", help="folder of img_N.jpg images")
    parser.add_argument("gt_dir", help="folder of gt_img_N.txt annotations")
    parser.add_argument("out_json", help="COCO JSON to write")
    parser.add_argument("--prefix", default="",
                        help="prepended to each file_name, e.g. 'training/' ('')")
    args = parser.parse_args(argv)
    coco = icdar_dir_to_coco(args.img_dir, args.gt_dir, args.prefix)
    os.makedirs(os.path.dirname(os.path.abspath(args.out_json)), exist_ok=True)
    with open(args.out_json, "w", encoding="utf-8") as f:
        json.dump(coco, f, ensure_ascii=False)
    ignored = sum(a["iscrowd"] for a in coco["annotations"])
    print(f"wrote {len(coco['images'])} images, {len(coco['annotations'])} annotations "
          f"({ignored} don't care) to {args.out_json}")
    return 0


if __name__ == "__main__":
    run_cli(main)
