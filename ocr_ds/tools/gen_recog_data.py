"""Generate a synthetic word-recognition data set with OpenCV's Hershey fonts.

::

    python -m ocr_ds.tools.gen_recog_data data/synth_recog \\
        --num-train 50000 --num-test 2000 --seed 0

Each crop is a random word (3-10 characters of the charset) drawn with one of several Hershey
fonts (upright or italic) at a random scale and stroke width, in a colour contrasting with a
flat, gradient, blotchy or striped background, then slightly rotated, sometimes blurred or
down-sampled, with pixel noise, and JPEG-encoded. The same arguments reproduce the same bytes
on the same OpenCV build (OpenCV 5 draws these fonts differently from OpenCV 4).

Writes, under OUT_DIR:

* ``train/`` and ``test/`` images with ``train_label.txt`` / ``test_label.txt`` (``name text``
  per line, names relative to the image folder: ``img_prefix=OUT_DIR/train``);
* ``train_lmdb/`` and ``test_lmdb/``: MMOCR recognition lmdbs (``num-samples``,
  ``label-%09d``, ``image-%09d``) holding the same labels and image bytes;
* ``meta.json``: the arguments, so :func:`ensure_generated` can tell the data is current.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Sequence

import cv2
import numpy as np

from ocr_ds.errors import CliParser, UserError, bad_value, run_cli
from ocr_ds.tools._synth_common import ensure_current
from ocr_ds.tools.to_lmdb import write_recog_lmdb

_CV2_MAJOR = int(cv2.__version__.split(".")[0])
# OpenCV 5 draws the Hershey flags with built-in outline fonts (regular, bold, and SCRIPT_* as
# italics; thickness > 1 is bold); OpenCV 4 draws stroke fonts, where SCRIPT_* is cursive
# handwriting (left out: too far from print) and FONT_ITALIC slants.
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_COMPLEX_SMALL)
if _CV2_MAJOR >= 5:
    FONTS += (cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX)
ITALIC_FLAG_P = 0.0 if _CV2_MAJOR >= 5 else 0.3
TEXT_HEIGHT = (16, 34)  # height of "0Ag" in pixels, before rotation and margins
JPEG_QUALITY = 92
META_VERSION = 1


def _luma(bgr: np.ndarray) -> float:
    return float(0.114 * bgr[0] + 0.587 * bgr[1] + 0.299 * bgr[2])


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A flat, gradient, blotchy or striped background, ``(h, w, 3)`` float32."""
    base = rng.uniform(0, 255, 3).astype(np.float32)
    kind = rng.integers(4)
    if kind == 0:  # flat
        return np.broadcast_to(base, (h, w, 3)).copy()
    if kind == 1:  # linear gradient to a nearby colour
        other = np.clip(base + rng.uniform(-70, 70, 3), 0, 255).astype(np.float32)
        t = np.linspace(0, 1, w if rng.random() < 0.7 else h, dtype=np.float32)
        t = t[None, :, None] if t.size == w else t[:, None, None]
        return (base * (1 - t) + other * t) * np.ones((h, w, 1), np.float32)
    if kind == 2:  # low-frequency blotches
        small = rng.normal(0, 25, (max(2, h // 8), max(2, w // 8), 3)).astype(np.float32)
        return np.clip(base + cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255)
    img = np.broadcast_to(base, (h, w, 3)).copy()  # thin random lines
    for _ in range(int(rng.integers(2, 6))):
        colour = np.clip(base + rng.uniform(-50, 50, 3), 0, 255).tolist()
        p1 = (int(rng.integers(w)), int(rng.integers(h)))
        p2 = (int(rng.integers(w)), int(rng.integers(h)))
        cv2.line(img, p1, p2, colour, 1, cv2.LINE_AA)
    return img


def render_word(text: str, rng: np.random.Generator) -> np.ndarray:
    """Draw ``text`` as a word crop (``H x W x 3`` uint8 BGR, H about 24-56 px)."""
    font = int(FONTS[rng.integers(len(FONTS))])
    if rng.random() < ITALIC_FLAG_P:
        font |= cv2.FONT_ITALIC
    ref_height = cv2.getTextSize("0Ag", font, 1.0, 1)[0][1]
    scale = float(rng.uniform(*TEXT_HEIGHT)) / ref_height
    thickness = int(rng.integers(1, 4 if scale * ref_height > 24 else 3))
    (tw, th), baseline = cv2.getTextSize(text, font, scale, thickness)
    ml, mr = (int(v) for v in rng.integers(2, 10, 2))
    mt, mb = (int(v) for v in rng.integers(2, 8, 2))
    h, w = th + baseline + mt + mb, tw + ml + mr
    img = np.clip(np.rint(_background(rng, h, w)), 0, 255).astype(np.uint8)
    bg = img.reshape(-1, 3).mean(0)
    while True:  # a text colour that stands out from the background
        colour = rng.uniform(0, 255, 3)
        if abs(_luma(colour) - _luma(bg)) >= 90:
            break
    line = cv2.LINE_AA if rng.random() < 0.8 else cv2.LINE_8
    cv2.putText(img, text, (ml, mt + th), font, scale, colour.tolist(), thickness, line)

    angle = float(rng.uniform(-3.0, 3.0))
    if abs(angle) > 0.3:
        rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        img = cv2.warpAffine(img, rot, (w, h), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (3, 3), float(rng.uniform(0.3, 1.0)))
    if rng.random() < 0.2:  # low resolution look
        f = float(rng.uniform(0.5, 0.8))
        small = cv2.resize(img, (max(1, int(w * f)), max(1, int(h * f))),
                           interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    sigma = float(rng.uniform(0, 10))
    img = img.astype(np.float32) + rng.normal(0, sigma, img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def random_words(rng: np.random.Generator, count: int, chars: Sequence[str], min_len: int,
                 max_len: int) -> list[str]:
    lengths = rng.integers(min_len, max_len + 1, count)
    table = np.array(list(chars))
    return ["".join(table[rng.integers(len(table), size=int(n))]) for n in lengths]


def _write_split(out_dir: str, split: str, words: Sequence[str], rng: np.random.Generator,
                 write_lmdb: bool) -> None:
    img_dir = os.path.join(out_dir, split)
    os.makedirs(img_dir, exist_ok=True)
    digits = max(6, len(str(len(words))))
    blobs, lines = [], []
    for i, word in enumerate(words):
        ok, buf = cv2.imencode(".jpg", render_word(word, rng),
                               [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:  # pragma: no cover - encoding a valid uint8 image does not fail
            raise RuntimeError("JPEG encoding failed")
        name = f"word_{i:0{digits}d}.jpg"
        blob = buf.tobytes()
        with open(os.path.join(img_dir, name), "wb") as f:
            f.write(blob)
        blobs.append(blob)
        lines.append(f"{name} {word}\n")
    with open(os.path.join(out_dir, f"{split}_label.txt"), "w", encoding="utf-8") as f:
        f.writelines(lines)
    if write_lmdb:
        write_recog_lmdb(os.path.join(out_dir, f"{split}_lmdb"), list(words), blobs)


def generate(out_dir: str, num_train: int, num_test: int, seed: int = 0,
             charset: str = "DICT36", min_len: int = 3, max_len: int = 10,
             write_lmdb: bool = True) -> dict[str, Any]:
    """Write the data set (see the module docstring); returns what ``meta.json`` records."""
    from ocr_ds.models.textrecog.dictionary import load_chars

    for key, value in (("num_train", num_train), ("num_test", num_test)):
        if not isinstance(value, int) or value < 0:
            raise bad_value(key, value, "an integer >= 0")
    if not 1 <= min_len <= max_len:
        raise UserError(f"min_len/max_len: expected 1 <= min_len <= max_len "
                        f"(got {min_len}, {max_len})")
    chars = [c for c in load_chars(dict_type=charset, key="charset") if c != " "]
    meta = dict(version=META_VERSION, num_train=num_train, num_test=num_test, seed=seed,
                charset=charset, min_len=min_len, max_len=max_len, write_lmdb=write_lmdb)
    os.makedirs(out_dir, exist_ok=True)
    # independent streams: the test set does not change when num_train does
    train_seq, test_seq = np.random.SeedSequence(seed).spawn(2)
    for split, count, seq in (("train", num_train, train_seq), ("test", num_test, test_seq)):
        word_rng, img_rng = (np.random.Generator(np.random.PCG64(s)) for s in seq.spawn(2))
        _write_split(out_dir, split, random_words(word_rng, count, chars, min_len, max_len),
                     img_rng, write_lmdb)
    with open(os.path.join(out_dir, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    return meta


def ensure_generated(out_dir: str, **kwargs: Any) -> bool:
    """Generate the data set unless ``out_dir/meta.json`` records the same arguments.

    Returns True when it generated. (The engine calls this for configs with ``synth_data``.)
    """
    wanted = dict(version=META_VERSION, num_train=kwargs.get("num_train"),
                  num_test=kwargs.get("num_test"), seed=kwargs.get("seed", 0),
                  charset=kwargs.get("charset", "DICT36"), min_len=kwargs.get("min_len", 3),
                  max_len=kwargs.get("max_len", 10), write_lmdb=kwargs.get("write_lmdb", True))
    return ensure_current(out_dir, wanted, lambda: generate(out_dir, **kwargs))


def main(argv: Sequence[str] | None = None) -> int:
    parser = CliParser(
        prog="python -m ocr_ds.tools.gen_recog_data",
        description="Render a synthetic word-recognition data set (txt + lmdb forms).")
    parser.add_argument("out_dir", help="output folder (e.g. data/synth_recog)")
    parser.add_argument("--num-train", type=int, default=50000, help="training crops (50000)")
    parser.add_argument("--num-test", type=int, default=2000, help="test crops (2000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--charset", default="DICT36",
                        help="dictionary the words are drawn from: DICT36, DICT90, ... (DICT36)")
    parser.add_argument("--min-len", type=int, default=3, help="shortest word (3)")
    parser.add_argument("--max-len", type=int, default=10, help="longest word (10)")
    parser.add_argument("--no-lmdb", action="store_true", help="skip the lmdb copies")
    args = parser.parse_args(argv)
    start = time.time()
    generate(args.out_dir, args.num_train, args.num_test, args.seed, args.charset,
             args.min_len, args.max_len, write_lmdb=not args.no_lmdb)
    print(f"wrote {args.num_train} train + {args.num_test} test crops to {args.out_dir} "
          f"in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    run_cli(main)
