"""What the word-crop (recognition) converters share: MMOCR's ``--format`` label lines, the
crops of ``[x, y, w, h]`` boxes (``src_img[y:y + h, x:x + w]``, written as ``mmcv.imwrite``
writes them), and the staging that keeps bad input from leaving anything half-written: crops go
to a hidden folder under ROOT and move into place, with the label files, only once every split
converted."""
from __future__ import annotations

import json
import os
import shutil
from typing import Any, Sequence

from ocr_ds.errors import CliParser, UserError


def add_format_arg(p: CliParser) -> None:
    p.add_argument("--format", default="jsonl", choices=["jsonl", "txt"],
                   help="Use jsonl or string to format annotations (jsonl)")


def add_crop_args(p: CliParser, nproc: bool = True) -> None:
    """``[--nproc N] --preserve-vertical``, as MMOCR's crop converters declare them."""
    if nproc:
        p.add_argument("--nproc", default=1, type=int, help="Number of processes (1)")
    p.add_argument("--preserve-vertical", action="store_true",
                   help="Preserve samples containing vertical texts")


def label_line(name: str, text: str, fmt: str, ensure_ascii: bool = True) -> str:
    """``NAME TEXT`` (``txt``) or ``{"filename": NAME, "text": TEXT}`` (``jsonl``)."""
    if fmt == "txt":
        return f"{name} {text}"
    return json.dumps({"filename": name, "text": text}, ensure_ascii=ensure_ascii)


def read_color(path: str) -> Any:
    """``mmcv.imread(path)``: colour, EXIF orientation applied; missing / unreadable: one line."""
    from ocr_ds.tools._infer_common import read_images

    return read_images([path])[0]


def write_image(path: str, img: Any) -> None:
    """``mmcv.imwrite(img, path)``: OpenCV's encoder of the suffix, default parameters."""
    import cv2

    ok, buf = cv2.imencode(os.path.splitext(path)[1], img)
    if not ok:  # pragma: no cover - a uint8 BGR crop always encodes
        raise UserError(f"{path}: encoding of a crop failed")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(buf.tobytes())


def crop_boxes(job: tuple[str, str, Sequence[tuple[str, Sequence[int], str | None]]]) -> list[str]:
    """``job = (image, staging folder, [(crop path under it, [x, y, w, h], label line or
    None), ...])``: writes every non-empty crop; the label lines of those written."""
    img_file, stage, crops = job
    if not crops:
        return []
    img = read_color(img_file)
    lines = []
    for rel, (x, y, w, h), line in crops:
        crop = img[y:y + h, x:x + w]
        if crop.size == 0:
            continue
        write_image(os.path.join(stage, rel), crop)
        if line is not None:
            lines.append(line)
    return lines


class Staging:
    """``with Staging(root) as stage:`` a hidden folder under ``root`` for the crops;
    ``stage.commit(labels, folders)`` moves them into place and writes ``{path: lines}``."""

    def __init__(self, root: str):
        self.root = root
        self.path = os.path.join(root, f".crops.tmp.{os.getpid()}")

    def __enter__(self) -> "Staging":
        os.makedirs(self.path)
        return self

    def __exit__(self, *exc: Any) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def commit(self, labels: dict[str, list[str]], folders: Sequence[str] = ()) -> None:
        from ocr_ds.atomic import atomic_write

        for folder in folders:
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
        for d, _, files in os.walk(self.path):
            dst = os.path.join(self.root, os.path.relpath(d, self.path))
            os.makedirs(dst, exist_ok=True)
            for name in sorted(files):
                os.replace(os.path.join(d, name), os.path.join(dst, name))
        for path, lines in labels.items():
            atomic_write(path, "".join(f"{line}\n" for line in lines))
            print(f"wrote {path} ({len(lines)} lines)")
