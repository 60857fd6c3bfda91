"""SynthText's ``gt.mat`` -> ``OUT_DIR/synthtext.lmdb`` (MMOCR 0.6.3's
``tools/data/textdet/synthtext_converter.py``, same arguments, the same keys and values)::

    python -m ocr_ds.tools.data.textdet.synthtext_converter data/synthtext [-o OUT_DIR]

Reads ``ROOT/gt.mat`` (``imnames``, ``wordBB``, ``charBB``, ``txt``) and the images under
``ROOT/imgs``; one JSON line per image under the key ``'<index>'`` (``file_name``, ``height``,
``width``, ``annotations``: each word's box as ``bbox`` and, as ``segmentation``, the boundary
traced along its characters' boxes), and ``total_number``: what ``AnnFileLoader(file_format=
'lmdb')`` with ``LineJsonParser`` reads (MMOCR's SynthText config names it
``instances_training.lmdb``). The lmdb is built beside OUT_DIR/synthtext.lmdb and renamed into
place when complete.
"""
from __future__ import annotations

import json
import os
from typing import Any, Sequence

import numpy as np

from ocr_ds.datasets.textdet.coco_convert import polygon_bounds, read_image_size
from ocr_ds.errors import CliParser, UserError, run_cli

KEYS = ("imnames", "wordBB", "charBB", "txt")


def trace_boundary(char_boxes: list[np.ndarray]) -> np.ndarray:
    """The characters' top edges left to right, then their bottom edges right to left."""
    top = [box[0:2] for box in char_boxes]
    bottom = [box[[2, 3], :] for box in reversed(char_boxes)]
    return np.concatenate(top + bottom).astype(int)


def word_polygons(word_bb: np.ndarray, char_bb: np.ndarray, txt: np.ndarray,
                  where: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(word quadrangle (4, 2), boundary (n, 2)), ...]``: the words of ``txt`` (split on
    white space) take their characters' boxes in order, as MMOCR's ``match_bbox_char_str``."""
    boxes = np.asarray(word_bb).astype(np.int32)
    chars_bb = np.asarray(char_bb).astype(np.int32)
    boxes = np.transpose(boxes[:, :, None] if boxes.ndim == 2 else boxes, (2, 1, 0))
    chars_bb = np.transpose(chars_bb[:, :, None] if chars_bb.ndim == 2 else chars_bb, (2, 1, 0))
    strs = [str(s) for s in np.asarray(txt).reshape(-1)]
    words = [w for s in strs for w in s.split()]
    if len(words) != len(boxes):
        raise UserError(f"{where}: {len(words)} words in txt for {len(boxes)} wordBB boxes")
    per_word, start = [], 0
    for word in words:
        if start + len(word) > len(chars_bb):
            raise UserError(f"{where}: more characters in txt than charBB boxes "
                            f"({len(chars_bb)})")
        per_word.append(list(chars_bb[start:start + len(word)]))
        start += len(word)
    return [(box, trace_boundary(chars)) for box, chars in zip(boxes, per_word)]


def image_record(root: str, gt: dict[str, Any], img_id: int) -> dict[str, Any]:
    name = str(gt["imnames"][0][img_id][0])
    height, width = read_image_size(os.path.join(root, "imgs", name))
    where = f"gt.mat: image {img_id} ({name})"
    annotations = []
    for box, boundary in word_polygons(gt["wordBB"][0][img_id], gt["charBB"][0][img_id],
                                       gt["txt"][0][img_id], where):
        _, (min_x, min_y, max_x, max_y) = polygon_bounds(box.reshape(-1), where)
        annotations.append(dict(iscrowd=0, category_id=1,
                                bbox=[min_x, min_y, max_x - min_x, max_y - min_y],
                                segmentation=[boundary.flatten().tolist()]))
    return dict(file_name=name, height=height, width=width, annotations=annotations)


def load_gt(path: str) -> dict[str, Any]:
    import scipy.io

    if not os.path.isfile(path):
        raise UserError(f"{path}: SynthText's gt.mat not found")
    try:
        gt = scipy.io.loadmat(path)
    except Exception as exc:  # noqa: BLE001 - scipy raises many kinds for a bad file
        raise UserError(f"{path}: not a readable .mat file ({exc})") from None
    missing = [k for k in KEYS if k not in gt]
    if missing:
        raise UserError(f"{path}: expected the variables {', '.join(KEYS)} "
                        f"(missing {', '.join(missing)})")
    return gt


def convert(root: str, out_dir: str) -> str:
    from ocr_ds.tools._lmdb_writer import LmdbWriter

    gt = load_gt(os.path.join(root, "gt.mat"))
    num = len(gt["imnames"][0])
    out = os.path.join(out_dir, "synthtext.lmdb")
    with LmdbWriter(out, overwrite=True, inputs=[root]) as writer:
        for img_id in range(num):
            record = json.dumps(image_record(root, gt, img_id))
            writer.add((str(img_id).encode("utf8"), record.encode("utf8")))
        writer.put(b"total_number", str(num).encode("utf8"))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textdet.synthtext_converter",
                  description="Convert synthtext to lmdb dataset")
    p.add_argument("synthtext_path", help="SynthText root path (gt.mat, imgs/)")
    p.add_argument("-o", "--out-dir", help="output folder (default: synthtext_path)")
    args = p.parse_args(argv)
    print(f"wrote {convert(args.synthtext_path, args.out_dir or args.synthtext_path)}")
    return 0


if __name__ == "__main__":
    run_cli(main)
