"""SynthText's word crops with their characters' boxes (MMOCR 0.6.3's
``tools/data/textrecog/synthtext_converter.py``, same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.synthtext_converter data/synthtext/gt.mat \\
        data/synthtext/imgs data/synthtext/crops [--n_proc N]

For every word of ``gt.mat`` (``imnames``, ``txt`` split on white space, ``wordBB``,
``charBB``; coordinates rounded half to even, negatives to 0): ``OUT_DIR/<image folder>/
<image>_<k>.png``, the crop ``[min_y:max_y, min_x:max_x]`` of its box, and ``<image>_<k>.txt``,
the word then its characters' boxes relative to the crop (``x1 y1 ... x4 y4`` a line). An image
whose words and word boxes, or whose characters and character boxes, do not match is left out,
as is an empty crop, as in MMOCR; a word whose two files both exist is not written again, so an
interrupted run resumes (each file is written whole, under its name only when complete).
Differs: a missing image or unreadable ``gt.mat`` is one line, exit 2 (MMOCR: a traceback);
an image with a single character box is read (MMOCR: a ``transpose`` error).
"""
from __future__ import annotations

import os
from functools import partial
from typing import Any, Sequence

import numpy as np

from ocr_ds.errors import CliParser, UserError, run_cli


def _boxes(array: Any) -> list[list[int]]:
    """``(2, 4, n)`` (or ``(2, 4)``) coordinates -> ``n`` boxes of 8 ints, MMOCR's
    ``max(round(coord), 0)``."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 2:
        array = array[:, :, None]
    return [[max(round(float(c)), 0) for pt in box for c in pt] for box in array.transpose(2, 1, 0)]


def gt_datum(datum: tuple) -> tuple | None:
    """MMOCR's ``load_gt_datum``: ``(image path, words, word boxes, char box groups)`` or None
    for an image whose words, boxes and characters do not match."""
    img_path, txt, word_bb, char_bb = datum
    words = str(txt).split() if isinstance(txt, str) else [
        w for line in np.asarray(txt).reshape(-1) for w in str(line).split()]
    word_boxes = _boxes(word_bb)
    if len(words) != len(word_boxes) or not words:
        return None
    char_boxes = _boxes(char_bb)
    groups, start = [], 0
    for word in words:
        groups.append(char_boxes[start:start + len(word)])
        start += len(word)
    if len(groups[-1]) != len(words[-1]):
        return None
    return str(img_path), words, word_boxes, groups


def write_word(data: tuple | None, img_root: str, out_dir: str) -> int:
    """MMOCR's ``process`` for one image: its words' crops and label files; how many written."""
    from ocr_ds.atomic import atomic_write
    from ocr_ds.tools.data.textrecog._common import encode_image
    from ocr_ds.tools._infer_common import read_images

    if data is None:
        return 0
    img_path, words, word_boxes, groups = data
    img_dir, img_name = os.path.split(img_path)
    img_name = os.path.splitext(img_name)[0]
    image = read_images([os.path.join(img_root, img_path)])[0]
    sub_dir = os.path.join(out_dir, img_dir)
    os.makedirs(sub_dir, exist_ok=True)
    written = 0
    for i, word in enumerate(words):
        png = os.path.join(sub_dir, f"{img_name}_{i}.png")
        txt = os.path.join(sub_dir, f"{img_name}_{i}.txt")
        if os.path.exists(png) and os.path.exists(txt):
            continue
        box = word_boxes[i]
        min_x, max_x = min(box[::2]), max(box[::2])
        min_y, max_y = min(box[1::2]), max(box[1::2])
        crop = image[min_y:max_y, min_x:max_x]
        if crop.shape[0] <= 0 or crop.shape[1] <= 0:
            continue
        chars = np.array(groups[i]).reshape(-1, 8)
        chars[:, ::2] -= min_x
        chars[:, 1::2] -= min_y
        atomic_write(png, encode_image(crop, ".png", img_path))
        atomic_write(txt, word + "\n" + "".join(
            "%d %d %d %d %d %d %d %d\n" % tuple(c.tolist()) for c in chars))
        written += 1
    return written


def load_gt(path: str, nproc: int) -> list[tuple | None]:
    import scipy.io

    from ocr_ds.datasets.textdet.coco_convert import map_images

    if not os.path.isfile(path):
        raise UserError(f"{path}: SynthText's gt.mat not found")
    try:
        gt = scipy.io.loadmat(path, simplify_cells=True)
        data = list(zip(*(np.atleast_1d(gt[k]) for k in ("imnames", "txt", "wordBB",
                                                             "charBB"))))
    except Exception as exc:  # noqa: BLE001 - scipy raises many kinds for a bad file
        raise UserError(f"{path}: not SynthText's gt.mat (imnames, txt, wordBB, charBB: "
                        f"{type(exc).__name__}: {exc})") from None
    return map_images(gt_datum, data, nproc)


def main(argv: Sequence[str] | None = None) -> int:
    from ocr_ds.datasets.textdet.coco_convert import map_images

    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.synthtext_converter",
                  description="Crop images in Synthtext-style dataset in prepration for "
                              "MMOCR's use")
    p.add_argument("anno_path", help="Path to gold annotation data (gt.mat)")
    p.add_argument("img_path", help="Path to images")
    p.add_argument("out_dir", help="Path of output images and labels")
    p.add_argument("--n_proc", default=1, type=int, help="Number of processes to run with")
    args = p.parse_args(argv)
    print("Loading annoataion data...")
    data = load_gt(args.anno_path, args.n_proc)
    for item in data:  # every image is there before any crop is written
        if item is not None and not os.path.isfile(os.path.join(args.img_path, item[0])):
            raise UserError(f"{os.path.join(args.img_path, item[0])}: image not found")
    print("Creating cropped images and gold labels...")
    counts = map_images(partial(write_word, img_root=args.img_path, out_dir=args.out_dir),
                        data, args.n_proc)
    print(f"Done: {sum(counts)} words of {sum(d is not None for d in data)} images")
    return 0


if __name__ == "__main__":
    run_cli(main)
