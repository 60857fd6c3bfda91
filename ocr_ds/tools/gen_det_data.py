"""Generate synthetic text-detection scenes with OpenCV's Hershey fonts.

::

    python -m ocr_ds.tools.gen_det_data data/synth_det --num-train 1200 --num-test 200 \
        --seed 0 --size 256

Each ``size x size`` scene has a textured background (gradient, blotches, noise, thin clutter
lines and shapes) and 2-7 words (random letters and digits) in varied fonts, heights, stroke
widths, colours contrasting with what lies beneath, and rotations (about half upright, the
rest within +-30 degrees). Word boxes never overlap (each keeps a margin). About half the
scenes also hold a ``###`` don't-care region: a word too small or too blurred to read.
The same arguments reproduce the same bytes; the test scenes do not depend on ``--num-train``.

``--curved`` makes CTW1500-style scenes instead: 2-5 text *lines* of 1-3 words each (long
text), about two thirds of them bent along a smooth arc or wave (the rest straight), rotated
within +-20 degrees, each annotated with a 14-point polygon (7 points along the top side left
to right, 7 along the bottom right to left, as CTW1500). ``###`` regions are drawn the same
way. The ICDAR 2015 txt files hold quadrilaterals only, so curved data has the COCO JSON (and
the lmdb) alone. Without ``--curved`` the output is what it always was.

Writes, under OUT_DIR, MMOCR's ICDAR 2015 layout:

* ``imgs/training/img_N.jpg``, ``imgs/test/img_N.jpg`` (N from 1);
* ``annotations/training/gt_img_N.txt`` (and ``test``): ``x1,y1,...,x4,y4,word`` lines
  (not with ``--curved``);
* ``instances_training.json``, ``instances_test.json``: the same, COCO style, with
  ``file_name`` ``training/img_N.jpg`` relative to ``imgs/`` (``iscrowd=1`` for ``###``);
* with ``--lmdb``, ``imgs_lmdb/``: the same image bytes keyed by ``file_name``
  (:mod:`ocr_ds.tools.to_lmdb`), for ``file_client_args=dict(backend='lmdb', db_path=...)``;
* ``meta.json``: the arguments, so :func:`ensure_generated` can tell the data is current.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Sequence

import cv2
import numpy as np

from ocr_ds.datasets.textdet.icdar_txt import polygon_annotation
from ocr_ds.errors import CliParser, bad_value, run_cli
from ocr_ds.tools._synth_common import ensure_current

FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX)
CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
TEXT_HEIGHT = (0.05, 0.13)      # ink height of a word, as a fraction of the scene size
WORDS = (2, 7)                  # words per scene
MAX_ANGLE = 30.0
JPEG_QUALITY = 95
# --curved: text lines of 1-3 words, bent by up to BEND text heights, 14-point boundaries
CURVED_LINES = (2, 5)
CURVED_HEIGHT = (0.045, 0.1)
CURVED_MAX_ANGLE = 20.0
BEND = (0.3, 0.9)
SIDE_POINTS = 7
META_VERSION = 1
SPLITS = (("training", 0), ("test", 1))


def _luma(bgr: np.ndarray) -> float:
    return float(0.114 * bgr[0] + 0.587 * bgr[1] + 0.299 * bgr[2])


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A textured ``(size, size, 3)`` float32 background."""
    base = rng.uniform(20, 235, 3).astype(np.float32)
    other = np.clip(base + rng.uniform(-80, 80, 3), 0, 255).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    t = np.clip((xs * np.cos(angle) + ys * np.sin(angle) + 1) / 2, 0, 1)[..., None]
    img = base * (1 - t) + other * t
    cells = int(rng.integers(3, 12))
    blotch = rng.normal(0, rng.uniform(5, 30), (cells, cells, 3)).astype(np.float32)
    img += cv2.resize(blotch, (size, size), interpolation=cv2.INTER_CUBIC)
    for _ in range(int(rng.integers(0, 6))):  # clutter: lines, circles, rectangles
        colour = np.clip(img.mean((0, 1)) + rng.uniform(-90, 90, 3), 0, 255).tolist()
        p1 = tuple(int(v) for v in rng.integers(0, size, 2))
        p2 = tuple(int(v) for v in rng.integers(0, size, 2))
        kind = rng.integers(3)
        if kind == 0:
            cv2.line(img, p1, p2, colour, int(rng.integers(1, 3)), cv2.LINE_AA)
        elif kind == 1:
            cv2.circle(img, p1, int(rng.integers(size // 20, size // 4)), colour,
                       int(rng.choice([-1, 1, 2])), cv2.LINE_AA)
        else:
            cv2.rectangle(img, p1, p2, colour, int(rng.choice([-1, 1, 2])))
    img += rng.normal(0, rng.uniform(0, 8), img.shape).astype(np.float32)
    return np.clip(img, 0, 255)


def render_word(rng: np.random.Generator, text: str, height: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``text`` in white on black; returns the alpha mask and its tight quad
    ``(4, 2)`` (top-left, top-right, bottom-right, bottom-left) padded by ~8% of the height."""
    font = int(FONTS[rng.integers(len(FONTS))])
    ref = cv2.getTextSize("Ag", font, 1.0, 1)[0][1]
    scale = height / ref
    thickness = int(rng.integers(1, 3 if height < 24 else 4))
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    pad = int(th) + 4
    mask = np.zeros((th + base + 2 * pad, tw + 2 * pad), np.uint8)
    cv2.putText(mask, text, (pad, pad + th), font, scale, 255, thickness, cv2.LINE_AA)
    ys, xs = np.nonzero(mask > 40)
    m = max(1.0, 0.08 * (ys.max() - ys.min() + 1))
    x0, x1 = xs.min() - m, xs.max() + 1 + m
    y0, y1 = ys.min() - m, ys.max() + 1 + m
    return mask, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def place(rng: np.random.Generator, mask: np.ndarray, quad: np.ndarray, size: int,
          occupied: np.ndarray, margin: float, angle: float
          ) -> tuple[np.ndarray, np.ndarray] | None:
    """Rotate the word by ``angle`` and find a free spot; returns (alpha on the scene, quad)."""
    h, w = mask.shape
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    q = quad @ rot[:, :2].T + rot[:, 2]
    lo, hi = q.min(axis=0), q.max(axis=0)
    if (hi - lo).max() > size - 4:
        return None
    for _ in range(30):
        dx = rng.uniform(2 - lo[0], size - 2 - hi[0])
        dy = rng.uniform(2 - lo[1], size - 2 - hi[1])
        cand = q + (dx, dy)
        band = np.zeros_like(occupied)
        cv2.fillPoly(band, [np.round(cand).astype(np.int32)], 1)
        grown = cv2.dilate(band, np.ones((2 * int(margin) + 1,) * 2, np.uint8))
        if (grown & occupied).any():
            continue
        occupied |= grown
        shift = rot.copy()
        shift[:, 2] += (dx, dy)
        alpha = cv2.warpAffine(mask, shift, (size, size), flags=cv2.INTER_LINEAR)
        return alpha.astype(np.float32) / 255.0, cand
    return None


def paint(img: np.ndarray, alpha: np.ndarray, rng: np.random.Generator,
          blur: float = 0.0, contrast: float = 90.0) -> None:
    """Blend a colour that stands out from what lies under ``alpha`` into ``img``."""
    under = img[alpha > 0.3].mean(axis=0) if (alpha > 0.3).any() else img.mean((0, 1))
    for _ in range(50):
        colour = rng.uniform(0, 255, 3)
        if abs(_luma(colour) - _luma(under)) >= contrast:
            break
    if blur > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), blur)
    a = alpha[..., None]
    img[:] = img * (1 - a) + colour.astype(np.float32) * a


def add_text(rng: np.random.Generator, img: np.ndarray, occupied: np.ndarray,
             anns: list[tuple[np.ndarray, str]], mask: np.ndarray, boundary: np.ndarray,
             height: float, angle: float, text: str | None, care_kind: Any) -> None:
    """Place a rendered text (its mask and boundary) at a free spot, paint it, and record its
    rounded boundary with ``text``; ``None`` for a ``###`` region (too small, ``care_kind``
    0, or blurred)."""
    size = img.shape[0]
    placed = place(rng, mask, boundary, size, occupied, max(2.0, 0.35 * height), angle)
    if placed is None:
        return
    alpha, boundary = placed
    if text is None:
        paint(img, alpha, rng, blur=0.0 if care_kind == 0 else height * 0.25, contrast=40)
    else:
        paint(img, alpha, rng)
    anns.append((np.round(boundary).astype(np.int64), "###" if text is None else text))


def bend(rng: np.random.Generator, mask: np.ndarray, quad: np.ndarray, height: float
         ) -> tuple[np.ndarray, np.ndarray]:
    """Bend a rendered line: column x moves down by f(x), an arc or a wave of amplitude up to
    ``BEND`` text heights (zero for a third of the lines). Returns the new mask and the
    ``(14, 2)`` boundary: the text box's top and bottom sides, sampled at ``SIDE_POINTS``
    columns, moved the same way."""
    (x0, y0), (x1, y1) = quad[0], quad[2]
    amp = 0.0 if rng.random() < 0.35 else float(rng.uniform(*BEND) * height
                                               * rng.choice([-1.0, 1.0]))
    if rng.random() < 0.5:                                   # an arc, ends up or down
        def f(x: np.ndarray) -> np.ndarray:
            return amp * (4 * ((x - x0) / (x1 - x0) - 0.5) ** 2 - 0.5)
    else:                                                    # part of a sine wave
        cycles, phase = rng.uniform(0.5, 1.2), rng.uniform(0, 2 * np.pi)

        def f(x: np.ndarray) -> np.ndarray:
            return amp * 0.7 * np.sin(2 * np.pi * cycles * (x - x0) / (x1 - x0) + phase)
    h, w = mask.shape
    pad = int(np.ceil(abs(amp))) + 2
    xs = np.arange(w, dtype=np.float32)
    map_x = np.tile(xs, (h + 2 * pad, 1))
    map_y = (np.arange(h + 2 * pad, dtype=np.float32)[:, None] - pad
             - f(xs)[None, :].astype(np.float32))
    bent = cv2.remap(mask, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
    side = np.linspace(x0, x1, SIDE_POINTS)
    top = np.stack([side, y0 + pad + f(side)], 1)
    bottom = np.stack([side, y1 + pad + f(side)], 1)[::-1]
    return bent, np.concatenate([top, bottom])


def line_text(rng: np.random.Generator) -> list[str]:
    return ["".join(rng.choice(list(CHARS), int(rng.integers(3, 9))))
            for _ in range(int(rng.integers(1, 4)))]


def curved_scene(rng: np.random.Generator, size: int
                 ) -> tuple[np.ndarray, list[tuple[np.ndarray, str]]]:
    """One ``--curved`` scene: the uint8 BGR image and its ``(14-point boundary, text)``
    list."""
    img = background(rng, size)
    occupied = np.zeros((size, size), np.uint8)
    anns: list[tuple[np.ndarray, str]] = []
    plans = [("line", None) for _ in range(int(rng.integers(CURVED_LINES[0],
                                                              CURVED_LINES[1] + 1)))]
    if rng.random() < 0.5:
        plans.insert(int(rng.integers(len(plans) + 1)), ("###", rng.integers(2)))
    for kind, care_kind in plans:
        words = line_text(rng)
        if kind == "###":
            words = words[:1]
            height = (rng.uniform(0.018, 0.03) if care_kind == 0 else
                      rng.uniform(*CURVED_HEIGHT)) * size
        else:
            height = rng.uniform(*CURVED_HEIGHT) * size
        mask, quad = render_word(rng, " ".join(words), height)
        while len(words) > 1 and quad[2, 0] - quad[0, 0] > 0.85 * size:   # too long: shorten
            words = words[:-1]
            mask, quad = render_word(rng, " ".join(words), height)
        mask, poly = bend(rng, mask, quad, height)
        angle = 0.0 if rng.random() < 0.5 else float(rng.uniform(-CURVED_MAX_ANGLE,
                                                                  CURVED_MAX_ANGLE))
        add_text(rng, img, occupied, anns, mask, poly, height, angle,
                 " ".join(words) if kind == "line" else None, care_kind)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), anns


def scene(rng: np.random.Generator, size: int) -> tuple[np.ndarray, list[tuple[np.ndarray, str]]]:
    """One scene: the uint8 BGR image and its ``(quad, transcription)`` list."""
    img = background(rng, size)
    occupied = np.zeros((size, size), np.uint8)
    anns: list[tuple[np.ndarray, str]] = []
    plans = [("word", None) for _ in range(int(rng.integers(WORDS[0], WORDS[1] + 1)))]
    if rng.random() < 0.5:
        plans.insert(int(rng.integers(len(plans) + 1)), ("###", rng.integers(2)))
    for kind, care_kind in plans:
        text = "".join(rng.choice(list(CHARS), int(rng.integers(3, 9))))
        if kind == "###" and care_kind == 0:   # too small to read
            height = rng.uniform(0.018, 0.03) * size
        else:
            height = rng.uniform(*TEXT_HEIGHT) * size
        angle = 0.0 if rng.random() < 0.45 else float(rng.uniform(-MAX_ANGLE, MAX_ANGLE))
        mask, quad = render_word(rng, text, height)
        add_text(rng, img, occupied, anns, mask, quad, height, angle,
                 text if kind == "word" else None, care_kind)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), anns


def _write_split(out_dir: str, split: str, code: int, count: int, seed: int, size: int,
                 curved: bool = False) -> dict[str, Any]:
    img_dir = os.path.join(out_dir, "imgs", split)
    gt_dir = os.path.join(out_dir, "annotations", split)
    os.makedirs(img_dir, exist_ok=True)
    if not curved:
        os.makedirs(gt_dir, exist_ok=True)
    images, annotations = [], []
    for i in range(count):
        rng = np.random.default_rng([seed, code, i])
        img, anns = curved_scene(rng, size) if curved else scene(rng, size)
        name = f"img_{i + 1}.jpg"
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:  # pragma: no cover - encoding a valid uint8 image does not fail
            raise RuntimeError("JPEG encoding failed")
        with open(os.path.join(img_dir, name), "wb") as f:
            f.write(buf.tobytes())
        lines = []
        for quad, text in anns:
            pts = [int(v) for v in quad.reshape(-1)]
            lines.append(",".join(str(v) for v in pts) + f",{text}\n")
            annotations.append(polygon_annotation(pts, text, len(annotations), i))
        if not curved:
            with open(os.path.join(gt_dir, f"gt_img_{i + 1}.txt"), "w", encoding="utf-8") as f:
                f.writelines(lines)
        images.append(dict(id=i, file_name=f"{split}/{name}", height=size, width=size))
    coco = dict(images=images, annotations=annotations, categories=[dict(id=1, name="text")])
    with open(os.path.join(out_dir, f"instances_{split}.json"), "w", encoding="utf-8") as f:
        json.dump(coco, f)
    return coco


def _meta(num_train: Any, num_test: Any, seed: Any, size: Any, write_lmdb: bool,
          curved: bool = False) -> dict[str, Any]:
    meta = dict(version=META_VERSION, num_train=num_train, num_test=num_test, seed=seed,
                size=size)
    # options are recorded only when asked, so data made before them stays current
    if write_lmdb:
        meta["write_lmdb"] = True
    if curved:
        meta["curved"] = True
    return meta


def generate(out_dir: str, num_train: int, num_test: int, seed: int = 0, size: int = 320,
             write_lmdb: bool = False, curved: bool = False) -> dict[str, Any]:
    """Write the data set (see the module docstring); returns what ``meta.json`` records."""
    for key, value in (("num_train", num_train), ("num_test", num_test)):
        if not isinstance(value, int) or value < 0:
            raise bad_value(key, value, "an integer >= 0")
    if not isinstance(size, int) or size < 64:
        raise bad_value("size", size, "an integer >= 64")
    if not isinstance(curved, bool):
        raise bad_value("curved", curved, "true or false")
    meta = _meta(num_train, num_test, seed, size, write_lmdb, curved)
    os.makedirs(out_dir, exist_ok=True)
    for (split, code), count in zip(SPLITS, (num_train, num_test)):
        _write_split(out_dir, split, code, count, seed, size, curved)
    if write_lmdb:
        from ocr_ds.tools.to_lmdb import convert_det

        convert_det([os.path.join(out_dir, f"instances_{split}.json") for split, _ in SPLITS],
                    os.path.join(out_dir, "imgs_lmdb"), os.path.join(out_dir, "imgs"),
                    overwrite=True, verify=False)
    with open(os.path.join(out_dir, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    return meta


def ensure_generated(out_dir: str, **kwargs: Any) -> bool:
    """Generate unless ``out_dir/meta.json`` records the same arguments; True if it generated.

    Takes a config's ``synth_data`` dict; its ``tool`` key (which generator) is ignored here.
    """
    kwargs.pop("tool", None)
    wanted = _meta(kwargs.get("num_train"), kwargs.get("num_test"), kwargs.get("seed", 0),
                   kwargs.get("size", 320), kwargs.get("write_lmdb", False),
                   kwargs.get("curved", False))
    return ensure_current(out_dir, wanted, lambda: generate(out_dir, **kwargs))


def main(argv: Sequence[str] | None = None) -> int:
    parser = CliParser(
        prog="python -m ocr_ds.tools.gen_det_data",
        description="Render synthetic text-detection scenes (COCO JSON + ICDAR txt forms).")
    parser.add_argument("out_dir", help="output folder (e.g. data/synth_det)")
    parser.add_argument("--num-train", type=int, default=1200, help="training scenes (1200)")
    parser.add_argument("--num-test", type=int, default=200, help="test scenes (200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--size", type=int, default=320, help="scene side in pixels (320)")
    parser.add_argument("--lmdb", action="store_true",
                        help="also pack the images into OUT_DIR/imgs_lmdb (keyed by file_name)")
    parser.add_argument("--curved", action="store_true",
                        help="CTW1500-style scenes: curved and long text lines with 14-point "
                             "polygons (COCO JSON only)")
    args = parser.parse_args(argv)
    start = time.time()
    generate(args.out_dir, args.num_train, args.num_test, args.seed, args.size,
             write_lmdb=args.lmdb, curved=args.curved)
    print(f"wrote {args.num_train} training + {args.num_test} test scenes "
          f"({args.size}x{args.size}) to {args.out_dir} in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    run_cli(main)
