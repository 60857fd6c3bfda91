"""What the recognition converters share: MMOCR's label lines (``txt`` / ``jsonl``) and files
(``list_to_file``), and word crops made in a hidden folder under ROOT, moved into place with the
label files only once everything converted (bad input leaves nothing behind)."""
from __future__ import annotations

import json
import os
import shutil
from typing import Any, Callable

from ocr_ds.errors import CliParser, UserError

FORMATS = ("jsonl", "txt")


def add_format(p: CliParser) -> None:
    """MMOCR's ``--format {jsonl,txt}`` (default jsonl)."""
    p.add_argument("--format", default="jsonl", choices=FORMATS,
                   help="label file format: jsonl ({'filename': ..., 'text': ...} lines, the "
                        "default) or txt ('FILENAME WORD' lines)")


def label_line(filename: str, word: str, fmt: str, ensure_ascii: bool = True) -> str:
    """One label line: ``FILENAME WORD`` or the JSON object (``ensure_ascii`` as the dataset's
    converter dumps it)."""
    if fmt == "txt":
        return f"{filename} {word}"
    return json.dumps({"filename": filename, "text": word}, ensure_ascii=ensure_ascii)


def lines_text(lines: list[str]) -> str:
    """``mmocr.utils.list_to_file``: every line followed by a newline."""
    return "".join(f"{line}\n" for line in lines)


def encode_image(img: Any, ext: str, where: str) -> bytes:
    """``cv2.imwrite``'s bytes (``mmcv.imwrite``: the same encoder, default parameters)."""
    import cv2

    if img is None or img.size == 0:
        raise UserError(f"{where}: the crop is empty (a box of zero width or height)")
    ok, buf = cv2.imencode(ext, img)
    if not ok:  # pragma: no cover - a uint8 crop always encodes
        raise UserError(f"{where}: {ext} encoding of a crop failed")
    return buf.tobytes()


def write_file(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


class Staging:
    """A hidden folder under ``root`` that crops are written into (``path(rel)``), whose files
    ``commit`` moves to ``root/rel`` together with the label texts; removed on exit."""

    def __init__(self, root: str):
        self.root = root
        self.tmp = os.path.join(root, f".convert.tmp.{os.getpid()}")

    def __enter__(self) -> "Staging":
        os.makedirs(self.tmp)
        return self

    def __exit__(self, *exc: Any) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, rel: str) -> str:
        return os.path.join(self.tmp, rel)

    def commit(self, texts: dict[str, str], dirs: tuple[str, ...] = ()) -> list[str]:
        """Move every staged file into place, make ``dirs`` (MMOCR makes them even when empty),
        write ``texts`` (``{rel: text}``) atomically; the paths of the label files."""
        from ocr_ds.atomic import atomic_write

        for rel in dirs:
            os.makedirs(os.path.join(self.root, rel), exist_ok=True)
        for folder, _, files in sorted(os.walk(self.tmp)):
            rel_dir = os.path.relpath(folder, self.tmp)
            for name in sorted(files):
                dst = os.path.normpath(os.path.join(self.root, rel_dir, name))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                os.replace(os.path.join(folder, name), dst)
        out = []
        for rel, text in texts.items():
            path = os.path.join(self.root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            atomic_write(path, text)
            out.append(path)
        return out


def crop_image_words(job: tuple) -> list[str]:
    """One image's word crops, MMOCR's ``generate_ann``: ``job = (image path, crop name stem,
    [(8-number box, word), ...], staging folder, label folder name, format, ensure_ascii,
    (long, short) edge pad ratios, preserve_vertical)``. A crop of no pixels is skipped, one
    over twice as high as wide too unless ``preserve_vertical``; the kept ones are written as
    ``<stem>_<k>.png`` into the staging folder; their label lines."""
    from ocr_ds.datasets.textdet.coco_convert import crop_img
    from ocr_ds.tools._infer_common import read_images

    img_file, stem, words, out_dir, label_dir, fmt, ensure_ascii, pads, vertical = job
    image = read_images([img_file])[0]
    lines = []
    for box, word in words:
        crop = crop_img(image, box, *pads)
        if min(crop.shape) == 0:
            continue
        h, w = crop.shape[:2]
        if not vertical and h / w > 2:
            continue
        name = f"{stem}_{len(lines) + 1}.png"
        write_file(os.path.join(out_dir, name), encode_image(crop, ".png", img_file))
        lines.append(label_line(f"{label_dir}/{name}", word, fmt, ensure_ascii))
    return lines


def convert_crops(root: str, labels: dict[str, str], crop_dir: str, fmt: str, nproc: int,
                  jobs_of: Callable[[str, str], list[tuple]]) -> list[str]:
    """Every split's crops (``jobs_of(split, staging folder)``: the ``crop_image_words`` jobs)
    and ``ROOT/<labels[split]>.<fmt>``, moved into place together (``ROOT/<crop_dir>/<split>``)."""
    from ocr_ds.datasets.textdet.coco_convert import map_images

    texts = {}
    with Staging(root) as stage:
        for split, label in labels.items():
            print(f"Processing {split} set...")
            jobs = jobs_of(split, stage.path(os.path.join(crop_dir, split)))
            lines = [line for per_image in map_images(crop_image_words, jobs, nproc)
                     for line in per_image]
            texts[f"{label}.{fmt}"] = lines_text(lines)
        return stage.commit(texts, dirs=tuple(f"{crop_dir}/{split}" for split in labels))
