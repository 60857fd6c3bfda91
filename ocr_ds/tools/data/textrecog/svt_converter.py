"""Street View Text test set -> word crops and ``test_label.txt`` (MMOCR 0.6.3's
``tools/data/textrecog/svt_converter.py``, same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.svt_converter data/mixture/svt/svt1 [--resize \\
        --height 32 --width 100]

Reads ``ROOT/test.xml`` (``<image>`` with ``<imageName>``, ``<lex>`` and ``<taggedRectangles>``
of ``<taggedRectangle x y width height><tag>WORD</tag>``), crops each rectangle (clipped at 0)
out of ``ROOT/<imageName>`` (read in colour), optionally resized to WIDTHxHEIGHT, and writes
``ROOT/image/img_0001.jpg`` ... with the lines ``image/img_0001.jpg word LEX_SIZE lexicon`` of
``ROOT/test_label.txt`` (word and lexicon lower-cased). ``--height`` / ``--width`` are integers
here (MMOCR passes the strings on to OpenCV, which refuses them); a missing element, image or
an empty rectangle is a one-line error (MMOCR: a traceback, after writing some crops).
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import read_xml_root
from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.translate.values import positive_int
from ocr_ds.tools.data.textrecog._common import Staging, encode_image, lines_text, write_file


def _text(node: ET.Element, tag: str, where: str) -> str:
    child = node.find(tag)
    if child is None or child.text is None:
        raise UserError(f"{where}: expected a non-empty <{tag}>")
    return child.text


def _int(node: ET.Element, attr: str, where: str) -> int:
    try:
        return int(node.get(attr))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UserError(f"{where}: expected an integer attribute {attr}= (got "
                        f"{node.get(attr)!r})") from None


def convert(root_path: str, resize: bool, height: int, width: int) -> str:
    import cv2

    from ocr_ds.tools._infer_common import read_images

    label_file = os.path.join(root_path, "test.xml")
    if not os.path.exists(label_file):
        raise UserError(f"{label_file} not exists, please check and try again.")
    root = read_xml_root(label_file)
    lines = []
    with Staging(root_path) as stage:
        images = root.findall("image")
        for i, image_node in enumerate(images, 1):
            image_name = _text(image_node, "imageName", f"{label_file}: <image> {i}")
            where = f"{label_file}: image {image_name}"
            print(f"[{i}/{len(root)}] Process image: {image_name}")
            lexicon = _text(image_node, "lex", where).lower()
            rects = image_node.find("taggedRectangles")
            if rects is None:
                raise UserError(f"{where}: expected <taggedRectangles>")
            src_img = read_images([os.path.join(root_path, image_name)])[0]
            for rect in rects:
                x, y, w, h = (_int(rect, a, where) for a in ("x", "y", "width", "height"))
                word = _text(rect, "tag", where).lower()
                dst_img = src_img[max(0, y):max(0, y + h), max(0, x):max(0, x + w)]
                crop_where = f"{where}: rectangle x={x} y={y} width={w} height={h}"
                if resize and dst_img.size:
                    dst_img = cv2.resize(dst_img, (width, height))
                name = f"img_{len(lines) + 1:04}.jpg"
                write_file(stage.path(os.path.join("image", name)),
                           encode_image(dst_img, ".jpg", crop_where))
                lines.append(f"image/{name} {word} {len(lexicon.split(','))} {lexicon}")
        return stage.commit({"test_label.txt": lines_text(lines)}, dirs=("image",))[0]


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.svt_converter",
                  description="Generate testset of svt by cropping box image.")
    p.add_argument("root_path", help='Root dir path of svt, where test.xml in, for example, '
                                     '"data/mixture/svt/svt1/"')
    p.add_argument("--resize", action="store_true",
                   help="Whether resize cropped image to certain size.")
    p.add_argument("--height", default=32, type=int, help="Resize height (32).")
    p.add_argument("--width", default=100, type=int, help="Resize width (100).")
    args = p.parse_args(argv)
    if args.resize:
        positive_int(args.height, "--height"), positive_int(args.width, "--width")
    path = convert(args.root_path, args.resize, args.height, args.width)
    print(f"Finish to generate svt testset, with label file {path}")
    return 0


if __name__ == "__main__":
    run_cli(main)
