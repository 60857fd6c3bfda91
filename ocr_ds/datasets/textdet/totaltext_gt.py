"""Total-Text's native annotations, read as MMOCR 0.6.3's ``totaltext_converter.py`` (textdet and
textrecog) reads them.

``.txt`` (the "txt_format" release): one region per ``x: [[x1 x2 ...]], y: [[y1 y2 ...]],
ornt: [u'h'], transcriptions: [u'WORD']`` record (a record may wrap onto following lines);
``.mat`` (legacy ``polygt`` or current ``gt``): rows ``['x:', X, 'y:', Y, word, orientation]``.
A transcription ``#`` (or none) marks a don't-care region: ``###``. Images and annotation files
are paired in sorted order, as MMOCR pairs them (checked here: names must match).
"""
from __future__ import annotations

import ast
import os
import re
from typing import Any

import numpy as np

from ocr_ds.datasets.textdet.coco_convert import glob_images, loaded, text_lines
from ocr_ds.errors import UserError

DONT_CARE = "###"


def pair_files(img_dir: str, gt_dir: str) -> list[tuple[str, str]]:
    """``(image, annotation)`` pairs: both lists sorted and zipped, as MMOCR does; unlike MMOCR,
    unequal counts or an annotation file not named after its image (``[poly_]gt_<stem>``) are
    errors instead of silently misaligned pairs."""
    imgs = sorted(glob_images(img_dir))
    if not os.path.isdir(gt_dir):
        raise UserError(f"{gt_dir}: annotation directory not found")
    anns = sorted(os.path.join(gt_dir, name) for name in os.listdir(gt_dir))
    if len(imgs) != len(anns):
        raise UserError(f"{gt_dir}: {len(anns)} annotation files for the {len(imgs)} images of "
                        f"{img_dir} (one per image expected)")
    for img, ann in zip(imgs, anns):
        stem, gt_stem = (os.path.splitext(os.path.basename(p))[0] for p in (img, ann))
        if gt_stem != stem and not gt_stem.endswith("_" + stem):
            raise UserError(f"{ann}: does not belong to image {img} in sorted order "
                            f"(expected [poly_]gt_{stem}.txt or .mat)")
    return loaded(list(zip(imgs, anns)), img_dir)


def _contour(x: Any, y: Any, where: str) -> np.ndarray:
    """``[x1, y1, x2, y2, ...]`` of row vectors X, Y (MMOCR's interleaving, dtype kept)."""
    x, y = np.array(x), np.array(y)
    try:
        arr = np.concatenate([x, y]).T
        if arr.dtype.kind not in "iuf":
            raise TypeError
        return np.asarray(arr[:len(x[0]), :2]).reshape(-1)
    except (ValueError, IndexError, TypeError):
        raise UserError(f"{where}: x and y must be equally long lists of numbers "
                        f"(got shapes {x.shape} and {y.shape})") from None


def _record(line: str, where: str) -> tuple[np.ndarray, str]:
    """One ``x: ..., y: ..., transcriptions: ...`` record, rewritten to YAML as MMOCR does."""
    import yaml

    text = "{" + line.replace("[[", "[").replace("]]", "]") + "}"
    text = re.sub("([0-9]) +([0-9])", r"\1,\2", text)
    text = re.sub("([0-9]) +([ 0-9])", r"\1,\2", text)
    text = re.sub("([0-9]) -([0-9])", r"\1,-\2", text)
    text = text.replace("[u',']", "[u'#']")
    try:
        ann = yaml.safe_load(text)
    except yaml.YAMLError:
        ann = None
    if not isinstance(ann, dict) or not {"x", "y", "transcriptions"} <= set(ann) \
            or not isinstance(ann["transcriptions"], list):
        raise UserError(f"{where}: expected x: [[...]], y: [[...]], ornt: [...], "
                        f"transcriptions: [...] (got {line[:80]!r})")
    if not ann["transcriptions"]:
        word = DONT_CARE
    else:   # a transcription with commas is split by YAML: joined again, then its quotes go
        joined = ",".join(str(w) for w in ann["transcriptions"])
        try:
            word = str(ast.literal_eval(joined))
        except (ValueError, SyntaxError):
            raise UserError(f"{where}: transcription {joined!r} is not a quoted string") from None
    return _contour([ann["x"]], [ann["y"]], where), word


def read_txt(path: str) -> list[tuple[np.ndarray, str]]:
    from ocr_ds.fileio import read_text

    records, current = [], None
    for n, line in enumerate(text_lines(read_text(path, "Total-Text annotation file")), 1):
        line = line.strip()
        if current is None:
            current = [line, n]
        elif line.startswith("x:"):
            records.append(current)
            current = [line, n]
        else:
            current[0] += " " + line
    if current is not None and current[0] != "":
        records.append(current)
    out = [_record(line, f"{path}:{n}") for line, n in records if line.strip()]
    return [(c, DONT_CARE if w == "#" else w) for c, w in out]


def read_mat(path: str) -> list[tuple[np.ndarray, str]]:
    import scipy.io

    try:
        data = scipy.io.loadmat(path)
    except Exception as exc:  # noqa: BLE001 - scipy raises many kinds for a bad file
        raise UserError(f"{path}: not a readable .mat file ({exc})") from None
    rows = data.get("gt", data.get("polygt"))
    if rows is None:
        raise UserError(f"{path}: expected a 'gt' or 'polygt' variable "
                        f"(got {sorted(k for k in data if not k.startswith('__'))})")
    out = []
    for i, row in enumerate(rows):
        where = f"{path}: region {i + 1}"
        if len(row) < 5:
            raise UserError(f"{where}: expected ['x:', X, 'y:', Y, word, ...] "
                            f"(got {len(row)} cells)")
        word = row[4]
        word = DONT_CARE if len(word) == 0 or (len(word) == 1 and word[0] == "#") else word[0]
        out.append((_contour(row[1], row[3], where), word))
    return out


def read_totaltext(path: str) -> list[tuple[np.ndarray, str]]:
    """``[(contour, word), ...]`` of one ``.txt`` or ``.mat`` annotation file."""
    ext = os.path.splitext(path)[1]
    if ext == ".txt":
        return read_txt(path)
    if ext == ".mat":
        return read_mat(path)
    raise UserError(f"{path}: expected a .txt or .mat annotation file")
