"""Hand-made miniature RCTW, ReCTS, MTWI and HierText trees in each set's native annotation format
(``ROOT/imgs``, ``ROOT/annotations``), for tests/tools/data/test_more_large_converters.py."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from converter_trees import BOM, _json, image, text


def rctw(root: Path) -> Path:
    """BOM and CRLF, ``###``, difficult, negative, tall and out-of-image regions, an empty file,
    a last line without newline."""
    image(root / "imgs" / "image_0.jpg", 30, 40)
    image(root / "imgs" / "image_1.jpg", 20, 24)
    image(root / "imgs" / "image_2.jpg", 16, 16)
    text(root / "annotations" / "image_0.txt", BOM + '1,2,14,2,14,9,1,9,0,"金氏眼镜"\r\n'
         '3,10,12,10,12,16,3,16,1,"hard"\r\n5,5,9,5,9,9,5,9,0,"###"\r\n'
         '-2,1,6,1,6,5,-2,5,0,"neg"\r\n20,2,24,2,24,20,20,20,0,"tall"\r\n'
         '50,50,60,50,60,60,50,60,0,"out"\r\n7,18,30,17,31,27,6,28,0,"创于1989"\r\n')
    text(root / "annotations" / "image_1.txt", '2,3,20,3,20,12,2,12,0,"城建店"')
    text(root / "annotations" / "image_2.txt", "")
    return root


def rects(root: Path) -> Path:
    """ReCTS JSON: ``ignore`` 1, float and negative points, a tall line, no lines."""
    image(root / "imgs" / "train_ReCTS_001.jpg", 30, 40)
    image(root / "imgs" / "train_ReCTS_002.jpg", 20, 24)
    image(root / "imgs" / "train_ReCTS_003.jpg", 24, 30)

    def line(points, word, ignore=0):
        return dict(ignore=ignore, transcription=word, points=points)

    _json(root / "annotations" / "train_ReCTS_001.json", dict(
        chars=[dict(ignore=0, transcription="H", points=[1, 2, 5, 2, 5, 9, 1, 9])],
        lines=[line([1, 2, 14, 2, 14, 9, 1, 9], "HOKI"), line([3, 10, 12, 10, 12, 16, 3, 16],
                                                               "hid", 1),
               line([2.5, 11.5, 20.2, 11, 20.7, 18.9, 2.1, 19.3], "茶"),
               line([-3, -1, 8, -1, 8, 6, -3, 6], "edge"),
               line([30, 1, 34, 1, 34, 25, 30, 25], "tall")]))
    _json(root / "annotations" / "train_ReCTS_002.json", dict(chars=[], lines=[]))
    _json(root / "annotations" / "train_ReCTS_003.json", dict(
        chars=[], lines=[line([4, 4, 16, 4, 16, 10, 4, 10], "val")]))
    return root


def mtwi(root: Path) -> Path:
    """MTWI txt: float corners (a negative one), ``###``, a tall region, CRLF; a GIF named
    ``.jpg`` (converted to RGB in place), an empty image (skipped)."""
    from PIL import Image

    image(root / "imgs" / "TB1a.jpg", 30, 40)
    text(root / "annotations" / "TB1a.txt", "1.5,2.2,14.9,2.1,14.4,9.8,1.2,9.3,时尚袋袋\r\n"
         "3,10,12,10,12,16,3,16,###\r\n-1.7,20.5,18.3,20.5,18.3,28.9,-1.7,28.9,73/74\r\n"
         "30.2,1.1,34.8,1.1,34.8,25.6,30.2,25.6,tall\r\n")
    rng = np.random.default_rng(3)
    gif = Image.fromarray(rng.integers(0, 255, (18, 22, 3), dtype=np.uint8)).convert("P")
    (root / "imgs").mkdir(parents=True, exist_ok=True)
    gif.save(root / "imgs" / "TB1b.jpg", format="GIF")
    text(root / "annotations" / "TB1b.txt", "2,2,20,2,20,10,2,10,gif\n")
    text(root / "imgs" / "TB1c.jpg", b"")
    text(root / "annotations" / "TB1c.txt", "1,1,5,1,5,5,1,5,broken\n")
    return root


def _region(vertices, text_, legible=True, **extra):
    return dict(vertices=vertices, text=text_, legible=legible, **extra)


HIERTEXT_TRAIN = [
    dict(image_id="h1", image_width=40, image_height=30, paragraphs=[
        dict(vertices=[[0, 0], [38, 0], [38, 20], [0, 20]], legible=True, lines=[
            _region([[1, 2], [30, 2], [30, 9], [1, 9]], "Hello world", handwritten=False,
                    vertical=False, words=[
                        _region([[1, 2], [14, 2], [14, 9], [1, 9]], "Hello"),
                        _region([[15.5, 2.2], [30, 2], [29.6, 9.4], [15.2, 8.8]], "wörld"),
                        _region([[31, 2], [36, 2], [36, 8], [31, 8]], "??", False)]),
            _region([[2, 11], [20, 11], [20, 18], [2, 18]], "blur", False, words=[
                _region([[2, 11], [9, 10], [12, 14], [9, 18], [2, 18]], "bl")])]),
        dict(vertices=[[30, 1], [39, 1], [39, 29], [30, 29]], legible=False, lines=[
            _region([[33, 1], [37, 1], [37, 25], [33, 25]], "tall", words=[
                _region([[33, 1], [37, 1], [37, 25], [33, 25]], "tall"),
                _region([[36, 26], [44, 26], [44, 33], [36, 33]], "out")])])]),
    dict(image_id="h2", image_width=24, image_height=20, paragraphs=[]),
]
HIERTEXT_VAL = [
    dict(image_id="v1", image_width=30, image_height=24, paragraphs=[
        dict(vertices=[[4, 4], [16, 4], [16, 22], [4, 22]], legible=True, lines=[
            _region([[4, 4], [16, 4], [16, 10], [4, 10]], "né", words=[
                _region([[4, 4], [9, 4], [9, 10], [4, 10]], "n"),
                _region([[9, 4], [16, 4], [16, 10], [9, 10]], "é")]),
            _region([[5, 11], [8, 11], [8, 22], [5, 22]], "up", words=[])])])]


def hiertext(root: Path, words_as_lines: bool = False) -> Path:
    """``annotations/{train,val}.jsonl``: illegible paragraphs, lines and words, float and
    5-point polygons, tall and out-of-image words, an image without paragraphs, non-ASCII.
    ``words_as_lines``: every paragraph's words as its lines (what MMOCR's ``--level line``
    reads as the words)."""
    image(root / "imgs" / "train" / "h1.jpg", 30, 40)
    image(root / "imgs" / "train" / "h2.jpg", 20, 24)
    image(root / "imgs" / "val" / "v1.jpg", 24, 30)
    for split, images in (("train", HIERTEXT_TRAIN), ("val", HIERTEXT_VAL)):
        images = copy.deepcopy(images)
        if words_as_lines:
            for img in images:
                for paragraph in img["paragraphs"]:
                    paragraph["lines"] = [dict(w, words=[]) for line in paragraph["lines"]
                                          for w in line["words"]]
        _json(root / "annotations" / f"{split}.jsonl",
              dict(info=dict(date="2022", version="v1"), annotations=images))
    return root
