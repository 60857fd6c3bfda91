"""The crop converters of ``[x, y, w, h]`` boxes (TextOCR, COCO-Text, LSVT, HierText, RCTW, ReCTS,
MTWI): ``src_img[y:y + h, x:x + w]`` written as ``mmcv.imwrite`` writes them, and their
``--nproc`` / ``--preserve-vertical`` flags. Label lines, ``--format`` and the staging are
:mod:`._common`'s."""
from __future__ import annotations

import os
from typing import Any, Sequence

from ocr_ds.errors import CliParser
from ocr_ds.tools.data.textrecog._common import write_image


def add_crop_args(p: CliParser, nproc: bool = True) -> None:
    """``[--nproc N] --preserve-vertical``, as MMOCR's crop converters declare them."""
    if nproc:
        p.add_argument("--nproc", default=1, type=int, help="Number of processes (1)")
    p.add_argument("--preserve-vertical", action="store_true",
                   help="Preserve samples containing vertical texts")


def read_color(path: str) -> Any:
    """``mmcv.imread(path)``: colour, EXIF orientation applied; missing / unreadable: one line."""
    from ocr_ds.tools._infer_common import read_images

    return read_images([path])[0]


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

