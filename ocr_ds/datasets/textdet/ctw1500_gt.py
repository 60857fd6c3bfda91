"""SCUT-CTW1500's native annotations, read as MMOCR 0.6.3's ``ctw1500_converter.py`` reads them.

Training: one ``<image stem>.xml`` per image, ``<Annotations><image><box height= width= left=
top=><label>TEXT</label><segs>x1,y1,...,x14,y14</segs>...</box>...</image></Annotations>``
(the box attributes are the COCO bbox). Test: ``000<image stem>.txt``, lines
``x1,y1,...,x14,y14,####TEXT``. Every polygon has 14 points; no region is don't-care.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from ocr_ds.datasets.textdet.coco_convert import text_lines
from ocr_ds.errors import UserError

N_COORDS = 28


def _ints(values: list[str], where: str) -> list[int]:
    try:
        xy = [int(v) for v in values]
    except ValueError:
        raise UserError(f"{where}: expected {N_COORDS} integer coordinates "
                        f"(got {','.join(values)!r})") from None
    if len(xy) != N_COORDS:
        raise UserError(f"{where}: expected {N_COORDS} coordinates (14 points), got {len(xy)}")
    return xy


def parse_ctw1500_xml(path: str) -> list[tuple[list[int], Any, list[int]]]:
    """``[(polygon, text, [left, top, width, height]), ...]`` of a training ``.xml``
    (``text`` None where ``<label>`` is empty, as MMOCR writes it)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise UserError(f"{path}: not a valid XML file ({exc})") from None
    out = []
    for image in root:
        for n, box in enumerate(image, 1):
            where = f"{path}: box {n}"
            if len(box) < 2:
                raise UserError(f"{where}: expected <label> and <segs> children")
            try:
                bbox = [int(box.attrib[k]) for k in ("left", "top", "width", "height")]
            except KeyError as exc:
                raise UserError(f"{where}: attribute {exc.args[0]} missing") from None
            except ValueError:
                raise UserError(f"{where}: left/top/width/height: expected integers "
                                f"(got {dict(box.attrib)})") from None
            out.append((_ints((box[1].text or "").strip().split(","), where), box[0].text, bbox))
    return out


def parse_ctw1500_txt(path: str) -> list[tuple[list[int], str]]:
    """``[(polygon, text), ...]`` of a test ``.txt`` (``text``: after the ``####``)."""
    from ocr_ds.fileio import read_text

    out = []
    for n, line in enumerate(text_lines(read_text(path, "CTW1500 annotation file")), 1):
        line = line.strip()
        if not line:
            continue
        strs = line.split(",", N_COORDS)
        if len(strs) <= N_COORDS or not strs[N_COORDS].startswith("#"):
            raise UserError(f"{path}:{n}: expected x1,y1,...,x14,y14,####TEXT (got {line!r})")
        out.append((_ints(strs[:N_COORDS], f"{path}:{n}"), strs[N_COORDS][4:]))
    return out
