"""What the recognition converters share: MMOCR's label lines (``txt`` / ``jsonl``) and files
(``list_to_file``), and word crops made in a hidden folder under ROOT, moved into place with the
label files only once everything converted (bad input leaves nothing behind)."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from typing import Any, Callable, Sequence

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


def write_image(path: str, img: Any) -> None:
    """``mmcv.imwrite(img, path)``: OpenCV's encoder of the suffix, default parameters."""
    write_file(path, encode_image(img, os.path.splitext(path)[1], path))


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

    def commit(self, texts: dict[str, str | list[str]], dirs: Sequence[str] = ()) -> list[str]:
        """Move every staged file into place, make ``dirs`` (MMOCR makes them even when empty),
        write ``texts`` (``{path under root: text or lines}``) atomically; the paths of the
        label files."""
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
            atomic_write(path, text if isinstance(text, str) else lines_text(text))
            out.append(path)
        return out


@dataclass(frozen=True)
class CropSpec:
    """How a data set's ``generate_ann`` crops and labels: ``pads`` (long, short edge) of
    ``crop_img``; ``vertical``: keep crops over twice as high as wide (else leave them out, or
    write them into the job's ignore folder, unlabelled); ``number_all``: ``<stem>_<k>`` counts
    the skipped words too; words holding any of ``skip_chars`` are skipped, empty ones too
    unless ``keep_empty``."""
    fmt: str
    ensure_ascii: bool = True
    pads: tuple[float, float] = (0.4, 0.2)
    vertical: bool = True
    number_all: bool = False
    skip_chars: str = ""
    keep_empty: bool = False


def crop_image_words(job: tuple) -> list[str]:
    """One image's word crops, MMOCR's ``generate_ann``: ``job = (image path, crop name stem,
    [(8-number box, word), ...], staging folder, ignore folder or None, label folder name,
    CropSpec)``. A crop of no pixels is skipped; the kept ones are written as
    ``<stem>_<k>.png`` into the staging folder; their label lines."""
    from ocr_ds.datasets.pipelines.crop import crop_img
    from ocr_ds.tools._infer_common import read_images

    img_file, stem, words, out_dir, ignore_dir, label_dir, spec = job
    image = read_images([img_file])[0]
    lines = []
    k = 0
    for box, word in words:
        crop = crop_img(image, box, *spec.pads)
        k += spec.number_all
        if (min(crop.shape) == 0 or not (word or spec.keep_empty)
                or any(c in word for c in spec.skip_chars)):
            continue
        h, w = crop.shape[:2]
        ignored = not spec.vertical and h / w > 2
        if ignored and ignore_dir is None:
            continue
        k += not spec.number_all
        name = f"{stem}_{k}.png"
        write_file(os.path.join(ignore_dir if ignored else out_dir, name),
                   encode_image(crop, ".png", img_file))
        if not ignored:
            lines.append(label_line(f"{label_dir}/{name}", word, spec.fmt, spec.ensure_ascii))
    return lines


def convert_crops(root: str, labels: dict[str, str], fmt: str, nproc: int,
                  jobs_of: Callable[[str, Staging], list[tuple]],
                  dirs: tuple[str, ...]) -> list[str]:
    """Every split's crops (``jobs_of(split, staging)``: the ``crop_image_words`` jobs) and
    ``ROOT/<labels[split]>.<fmt>``, moved into place together; ``dirs`` made even if empty."""
    from ocr_ds.datasets.textdet.coco_convert import map_images

    texts = {}
    with Staging(root) as stage:
        for split, label in labels.items():
            print(f"Processing {split} set...")
            lines = [line for per_image in map_images(crop_image_words, jobs_of(split, stage),
                                                      nproc) for line in per_image]
            texts[f"{label}.{fmt}"] = lines_text(lines)
        return stage.commit(texts, dirs=dirs)


def recog_parser(name: str, dataset: str, description: str = "", vertical: str = "",
                 nproc: bool = True) -> CliParser:
    """MMOCR's ``ROOT [--<vertical flag>] [--format {jsonl,txt}] [--nproc N]``."""
    p = CliParser(prog=f"python -m ocr_ds.tools.data.textrecog.{name}",
                  description=description or f"Generate training and test set of {dataset}")
    p.add_argument("root_path", help=f"Root dir path of {dataset}")
    if vertical:
        p.add_argument(vertical, action="store_true",
                       help="Preserve samples containing vertical texts")
    if nproc:
        p.add_argument("--nproc", default=1, type=int, help="Number of processes (1)")
    add_format(p)
    return p


def report(paths: list[str]) -> int:
    for path in paths:
        print(f"wrote {path}")
    return 0


def image_jobs(files: list[tuple[str, str]], words_of: Callable[[str], list[tuple]],
               stage: Staging, split: str, spec: CropSpec, crop_dir: str = "crops",
               ignore_dir: str | None = "ignores") -> list[tuple]:
    """The ``crop_image_words`` jobs of ``(image, annotation)`` pairs; every image's size is
    read first (as MMOCR's ``load_img_info`` reads it), so a bad image is an error before any
    crop; ``words_of(annotation)``: its ``[(8-number box, word), ...]``."""
    from ocr_ds.datasets.textdet.coco_convert import read_image_size

    jobs = []
    for img_file, gt_file in files:
        read_image_size(img_file)
        jobs.append((img_file, os.path.basename(img_file).split(".")[0], words_of(gt_file),
                     stage.path(f"{crop_dir}/{split}"),
                     stage.path(f"{ignore_dir}/{split}") if ignore_dir else None, split, spec))
    return jobs


def label_file_lines(path: str) -> list[tuple[int, str]]:
    """``(line number, line)`` of the non-blank lines of a UTF-8 label file (a BOM dropped);
    missing: a one-line error."""
    from ocr_ds.datasets.textdet.coco_convert import text_lines
    from ocr_ds.fileio import read_text

    if not os.path.isfile(path):
        raise UserError(f"{path}: label file not found")
    return [(n, line) for n, line in enumerate(text_lines(read_text(path, "label file")), 1)
            if line.strip()]
