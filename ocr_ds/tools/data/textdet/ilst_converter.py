"""ILST (Indian language scene text) annotations -> ``instances_training.json`` (and
``instances_val.json`` with ``--val-ratio``) (MMOCR 0.6.3's ``tools/data/textdet/
ilst_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textdet.ilst_converter data/IIIT-ILST [--val-ratio 0.2] \\
        [--nproc 4]

Reads every ``ROOT/imgs/<name>.<ext>`` that has a ``ROOT/annotations/<name>.xml`` (Pascal VOC
``<object><name>WORD</name><bndbox><xmin>...``; images without one are left out, in directory
order, as MMOCR lists them); an image OpenCV cannot read is skipped with a message, as MMOCR
skips it. A box becomes ``[x, y, w, h]``, ``area = w * h``, its corners as the polygon; an
empty word ``iscrowd=1``. ``--val-ratio R``: the first ``int(n * R)`` images (the skipped ones
counted) become the val split, as in ``bid_converter``. Differs: ``bbox`` starts at the box's
top-left corner clipped at 0, as its polygon does (MMOCR: at ``xmin, ymin`` as written, so a
box given right-to-left or past the edge gets a ``bbox`` beside its polygon); an empty
``<name/>`` is an empty word (MMOCR: a traceback).
"""
from __future__ import annotations

import os
from typing import Any, Sequence

from ocr_ds.datasets.textdet.coco_convert import box_annotation, image_info, loaded, read_xml_root
from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textdet.bid_converter import main_val, root_dirs


def collect_files(root: str) -> list[tuple[str, str]]:
    """``(image, <stem>.xml)`` of every image of ``ROOT/imgs`` with an annotation file."""
    img_dir, gt_dir = root_dirs(root)
    files = []
    for name in os.listdir(img_dir):
        gt_file = os.path.join(gt_dir, name.split(".")[0] + ".xml")
        if os.path.exists(gt_file):
            files.append((os.path.join(img_dir, name), gt_file))
    return loaded(files, img_dir)


def read_boxes(gt_file: str, corners: bool = False) -> list[tuple[list[int], str]]:
    """``[([x, y, w, h], word), ...]`` of every ``<object>`` (``corners``: ``[xmin clipped at
    0, ymin clipped at 0, xmax, ymax]`` as written, LV's reading)."""
    root = read_xml_root(gt_file)
    out = []
    for n, obj in enumerate(root.iter("object"), 1):
        try:
            name = obj.find("name")
            word = (name.text if name is not None else None) or ""
            box = obj.find("bndbox")
            x1, y1, x2, y2 = (int(box.find(k).text)  # type: ignore[union-attr,arg-type]
                              for k in ("xmin", "ymin", "xmax", "ymax"))
        except (AttributeError, TypeError, ValueError):
            raise UserError(f"{gt_file}: <object> {n}: expected a <bndbox> with integer "
                            f"<xmin>, <ymin>, <xmax>, <ymax>") from None
        out.append(([max(0, x1), max(0, y1), x2, y2] if corners else
                     [max(0, min(x1, x2)), max(0, min(y1, y2)), abs(x2 - x1), abs(y2 - y1)],
                     word))
    return out


def readable(files: tuple[str, str]) -> bool:
    """Whether OpenCV reads the image (MMOCR skips the images it cannot read)."""
    try:
        image_info(*files, bare=True)
        return True
    except UserError:
        print(f"Skip broken img {files[0]}")
        return False


def load_img_info(files: tuple[str, str]) -> dict[str, Any] | None:
    if not readable(files):
        return None
    info = image_info(*files, bare=True)
    info["anno_info"] = [box_annotation(*box, iscrowd=int(not word))
                         for box, word in read_boxes(files[1])]
    return info


def main(argv: Sequence[str] | None = None) -> int:
    return main_val(argv, "ilst_converter", "ILST", collect_files, load_img_info)


if __name__ == "__main__":
    run_cli(main)
