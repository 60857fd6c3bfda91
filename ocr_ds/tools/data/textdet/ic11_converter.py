"""ICDAR 2011 (Born-Digital) detection annotations -> ``instances_{training,test}.json`` (MMOCR
0.6.3's ``tools/data/textdet/ic11_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textdet.ic11_converter data/icdar2011 [--nproc 4]

As ``ic13_converter`` with ``left,top,right,bottom,"text"`` lines in both splits; a ``.gif``
image (OpenCV does not read them) is replaced by a ``.png`` of it (Pillow's, as MMOCR converts
it), its JSON entry naming the PNG. The PNGs are written, and the GIFs removed, only after both
splits converted (MMOCR converts them as it lists the folder, and replaces ``gif`` anywhere in
the path, not only the suffix).
"""
from __future__ import annotations

import io
import os
from functools import partial
from typing import Any, Sequence

from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textdet import ic13_converter
from ocr_ds.tools.data.textdet._common import convert_splits, parser

SPLITS = ("training", "test")


def gif_as_png(path: str) -> tuple[bytes, tuple[int, int]]:
    """The PNG Pillow saves of a GIF, and its ``(height, width)``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            return buf.getvalue(), (img.size[1], img.size[0])
    except (OSError, UnidentifiedImageError) as exc:
        raise UserError(f"{path}: not a readable GIF ({exc})") from None


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("ic11_converter", "Generate training and test set of IC11", "Root dir path of IC11",
               out_dir=False, split_list=False)
    args = p.parse_args(argv)
    pngs: dict[str, tuple[str, bytes]] = {}

    def collect(img_dir: str, gt_dir: str, split: str) -> list[tuple[str, str, Any]]:
        files = []
        for img_file, gt_file, _ in ic13_converter.collect_files(img_dir, gt_dir, split):
            if not img_file.endswith("gif"):
                files.append((img_file, gt_file, None))
                continue
            png_file = img_file[:-3] + "png"
            data, size = gif_as_png(img_file)
            pngs[png_file] = (img_file, data)
            files.append((png_file, gt_file, size))
        return sorted(files)

    convert_splits(args.root_path, args.root_path, SPLITS, collect,
                   lambda split: partial(ic13_converter.load_img_info, separator=","),
                   args.nproc)
    for png_file, (gif_file, data) in pngs.items():
        with open(png_file, "wb") as f:
            f.write(data)
        os.remove(gif_file)
        print(f"Convert {gif_file} to {png_file}")
    return 0


if __name__ == "__main__":
    run_cli(main)
