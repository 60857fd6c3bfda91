"""SynthText word images' character boxes -> line-JSON for segmentation-based recognisers (MMOCR
0.6.3's ``tools/data/textrecog/seg_synthtext_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textrecog.seg_synthtext_converter --data-root DATA_ROOT \\
        --in-path DATA_ROOT/mapping.txt --out-path DATA_ROOT/instances_train.txt

``--in-path`` lists ``IMAGE ANN_FILE`` (both relative to ``--data-root``; a pair with either
file missing is left out, as MMOCR leaves it out); an annotation file holds the word on its
first line and one ``x1 y1 ... x4 y4`` character box per line after it. Each kept pair becomes
``{"file_name": IMAGE, "text": WORD, "annotations": [{"char_box": [...], "char_text": C},
...]}``. Differs: the three paths are required (MMOCR: a traceback without them); blank lines
are skipped, a mapping line without an annotation file or more boxes than characters is a
one-line error (MMOCR: a traceback, or an empty box from a blank line).
"""
from __future__ import annotations

import json
import os
from typing import Any, Sequence

from ocr_ds.datasets.textdet.coco_convert import write_outputs
from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.tools.data.textrecog._common import label_file_lines, lines_text


def read_chars(ann_file: str) -> tuple[str, list[dict[str, Any]]]:
    """The word and its ``[{"char_box": [...], "char_text": c}, ...]``."""
    lines = label_file_lines(ann_file)
    if not lines:
        return "", []
    text = lines[0][1].strip()
    annos = []
    for t, (n, line) in enumerate(lines[1:], 1):
        try:
            box = [float(v) for v in line.split()]
        except ValueError:
            raise UserError(f"{ann_file}:{n}: expected a character box of numbers "
                            f"(got {line!r})") from None
        if t > len(text):
            raise UserError(f"{ann_file}:{n}: more character boxes than the "
                            f"{len(text)} characters of {text!r}")
        annos.append(dict(char_box=box, char_text=text[t - 1]))
    return text, annos


def convert(data_root: str, in_path: str) -> list[str]:
    lines = []
    for n, line in label_file_lines(in_path):
        fields = line.strip().split()
        if len(fields) < 2:
            raise UserError(f"{in_path}:{n}: expected 'IMAGE ANN_FILE' (got {line!r})")
        if not (os.path.exists(os.path.join(data_root, fields[0]))
                and os.path.exists(os.path.join(data_root, fields[1]))):
            continue
        text, annos = read_chars(os.path.join(data_root, fields[1]))
        lines.append(json.dumps(dict(file_name=fields[0], text=text, annotations=annos)))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.seg_synthtext_converter",
                  description="Convert SynthText word images' character boxes to line-JSON")
    p.add_argument("--data-root", required=True,
                   help="data root for both image file and anno file")
    p.add_argument("--in-path", required=True,
                   help='mapping file of image_name and ann_file, "image_name ann_file" in '
                        "each line")
    p.add_argument("--out-path", required=True, help="output txt path with line-json format")
    args = p.parse_args(argv)
    write_outputs({args.out_path: lines_text(convert(args.data_root, args.in_path))})
    print("finish")
    return 0


if __name__ == "__main__":
    run_cli(main)
