"""HierText annotations -> ``instances_training.json`` and ``instances_val.json`` in ROOT (MMOCR
0.6.3's ``tools/data/textdet/hiertext_converter.py``, same arguments, byte-identical output)::

    python -m ocr_ds.tools.data.textdet.hiertext_converter data/hiertext \\
        [--level {word,line,paragraph}]

Reads ``ROOT/annotations/{train,val}.jsonl`` (see ``ocr_ds.datasets.textdet.hiertext_gt``); one
annotation per paragraph, line or word (``--level``, default ``word``): its polygon, shapely's
area and bounds, ``iscrowd`` 1 when not ``legible``. Image sizes come from the annotation file
(no image is read); ``segm_file`` is the annotation file's path. At ``word`` level each word has
its own polygon (MMOCR's converter repeats the word's line polygon once per word).
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.hiertext_gt import SPLITS, hiertext_infos
from ocr_ds.errors import CliParser, run_cli
from ocr_ds.tools.data.textdet._common import write_cocos


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textdet.hiertext_converter",
                  description="Generate training and validation set of HierText")
    p.add_argument("root_path", help="Root dir path of HierText")
    p.add_argument("--level", default="word", choices=["word", "line", "paragraph"],
                   help="HierText provides three levels of annotation (word)")
    args = p.parse_args(argv)
    write_cocos({os.path.join(args.root_path, out): hiertext_infos(args.root_path, split,
                                                                   args.level)
                 for split, out in SPLITS.items()})
    return 0


if __name__ == "__main__":
    run_cli(main)
