"""KAIST's downloaded zips -> ``ROOT/imgs/NNNNN.jpg`` and ``ROOT/annotations/NNNNN.xml`` (MMOCR
0.6.3's ``tools/data/common/extract_kaist.py``, same argument, the same files)::

    python -m ocr_ds.tools.data.common.extract_kaist data/kaist

Takes the zips of ``ROOT/KAIST/{English,Korean,Mixed}/{Digital_Camera,Mobile_Phone}/`` in that
order (each folder's in directory order), and of each zip's top-level files every ``.xml`` that
parses and has a ``.jpg`` / ``.JPG`` beside it (the ``.JPG`` when both), numbered from 00000 in
that order; then removes the zips and ``ROOT/KAIST``, as MMOCR does. Differs: every zip is
checked before anything is extracted or moved (a missing folder or a broken zip: one line,
nothing changed; MMOCR stops half-way, some zips deleted), and ``ROOT/imgs`` /
``ROOT/annotations`` are made when missing (MMOCR's moves fail without them).
"""
from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
import zipfile
from typing import Sequence

from ocr_ds.errors import CliParser, UserError, run_cli

LANGUAGES = ("English", "Korean", "Mixed")
CAMERAS = ("Digital_Camera", "Mobile_Phone")


def list_zips(root: str) -> list[str]:
    zips = []
    for language in LANGUAGES:
        for camera in CAMERAS:
            folder = os.path.join(root, "KAIST", language, camera)
            if not os.path.isdir(folder):
                raise UserError(f"{folder}: folder of KAIST's zips not found")
            for name in os.listdir(folder):
                path = os.path.join(folder, name)
                try:
                    with zipfile.ZipFile(path) as zf:
                        bad = zf.testzip()
                except (zipfile.BadZipFile, OSError) as exc:
                    raise UserError(f"{path}: not a readable zip file ({exc})") from None
                if bad is not None:
                    raise UserError(f"{path}: corrupt member {bad!r}")
                zips.append(path)
    return zips


def extract(root: str) -> int:
    """Extract, number and move every pair; the number of pairs."""
    zips = list_zips(root)
    for sub in ("imgs", "annotations"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    idx = 0
    tmp = os.path.join(root, "tmp")
    for path in zips:
        extracted = os.path.join(tmp, os.path.basename(path))
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                zf.extract(member, extracted)
        os.remove(path)
        for name in os.listdir(extracted):
            if not name.endswith("xml"):
                continue
            src_ann = os.path.join(extracted, name)
            try:
                ET.parse(src_ann)
            except ET.ParseError:
                continue
            src_img = None
            for suffix in ("jpg", "JPG"):
                candidate = os.path.join(extracted, name.replace("xml", suffix))
                if os.path.exists(candidate):
                    src_img = candidate
            if src_img:
                shutil.move(src_ann, os.path.join(root, "annotations", f"{idx:05d}.xml"))
                shutil.move(src_img, os.path.join(root, "imgs", f"{idx:05d}.jpg"))
                idx += 1
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(os.path.join(root, "KAIST"))
    return idx


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.common.extract_kaist",
                  description="Extract KAIST zips")
    p.add_argument("root_path", help="Root path of KAIST")
    args = p.parse_args(argv)
    if not os.path.exists(args.root_path):
        raise UserError(f"{args.root_path}: no such folder")
    print(f"{extract(args.root_path)} images with annotations in "
          f"{os.path.join(args.root_path, 'imgs')}")
    return 0


if __name__ == "__main__":
    run_cli(main)
