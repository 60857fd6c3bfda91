"""Hand-made miniature dataset trees, in each dataset's native layout and annotation format, for
the dataset-converter tests (``ROOT/imgs/<split>``, ``ROOT/annotations/<split>``)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

BOM = "\ufeff"


def image(path: Path, h: int = 20, w: int = 24, gray: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(path.name) + h)
    img = rng.integers(0, 255, (h, w) if gray else (h, w, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), img)


def text(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)


def icdar2015(root: Path) -> Path:
    """BOM, CRLF, ``###`` (also ``###,x``), commas in a transcription, a self-intersecting quad,
    a negative coordinate, a grayscale PNG, upper-case suffix, an empty file, a .bmp (skipped)."""
    tr, gt = root / "imgs" / "training", root / "annotations" / "training"
    image(tr / "img_1.jpg")
    image(tr / "img_2.png", 18, 30, gray=True)
    image(tr / "img_3.JPG", 16, 16)
    image(tr / "img_4.jpeg")
    image(tr / "img_5.bmp")                          # not a suffix MMOCR converts: no gt needed
    image(tr / "img_6.jpg")
    text(gt / "gt_img_1.txt", BOM + "1,2,10,2,10,8,1,8,Hello, world\r\n3,3,9,3,9,9,3,9,###\r\n"
         "0,0,5,6,5,0,0,6,bowtie\r\n")
    text(gt / "gt_img_2.txt", "-1,0,7,0,7,5,-1,5,né\n2,2,12,3,11,9,1,8,###,x\n")
    text(gt / "gt_img_3.txt", "1,1,4,1,4,4,1,4,A")
    text(gt / "gt_img_4.txt", '5,5,15,5,15,9,5,9,"q"\n')
    text(gt / "gt_img_6.txt", "")
    image(root / "imgs" / "test" / "img_1.jpg", 12, 14)
    text(root / "annotations" / "test" / "gt_img_1.txt", "1,1,5,1,5,5,1,5,###\n")
    return root


def icdar2017(root: Path) -> Path:
    """MLT lines (``...,script,transcription``); the val split has only empty files."""
    tr, gt = root / "imgs" / "training", root / "annotations" / "training"
    image(tr / "img_1.jpg")
    image(tr / "img_2.png")
    text(gt / "gt_img_1.txt", "1,2,10,2,10,8,1,8,Latin,Hello\n3,3,9,3,9,9,3,9,Arabic,###\n")
    text(gt / "gt_img_2.txt", "2,1,12,1,12,7,2,7,Chinese,中文,x\n0,0,4,0,4,4,0,4,None,###\n")
    image(root / "imgs" / "val" / "img_1.jpg")
    text(root / "annotations" / "val" / "gt_img_1.txt", "")
    return root


def _poly14(dx: int = 0, dy: int = 0) -> list[int]:
    top = [(dx + 2 * i, dy + i % 2) for i in range(7)]
    bottom = [(dx + 12 - 2 * i, dy + 8 - i % 3) for i in range(7)]
    return [v for p in top + bottom for v in p]


def ctw1500(root: Path) -> Path:
    """Training XML (a box with an empty label), test txt (``####TEXT``)."""
    def box(label: str, left: int, top: int, pts: list[int]) -> str:
        return (f'<box height="9" left="{left}" top="{top}" width="13">{label}'
                f'<segs>{",".join(map(str, pts))}</segs><pts x="{pts[0]}" y="{pts[1]}" /></box>')

    tr, gt = root / "imgs" / "training", root / "annotations" / "training"
    image(tr / "0001.jpg", 24, 30)
    image(tr / "0002.png", 20, 20)
    text(gt / "0001.xml", '<Annotations><image file="0001.jpg">'
         + box("<label>HELLO</label>", 0, 0, _poly14())
         + box("<label />", 3, 4, _poly14(3, 4)) + "</image></Annotations>")
    text(gt / "0002.xml", '<Annotations><image file="0002.jpg"></image></Annotations>')
    image(root / "imgs" / "test" / "1001.jpg", 22, 26)
    text(root / "annotations" / "test" / "0001001.txt",
         ",".join(map(str, _poly14())) + ",####SALE\n"
         + ",".join(map(str, _poly14(5, 2))) + ",####\n")
    return root


TT_IMG1 = ("x: [[115 503 494 115]], y: [[322 346 426 404]], ornt: [u'm'], "
           "transcriptions: [u'nauGHTY']\n"
           "x: [[1 5 9 12 15 18 20\n  22 25]], y: [[3 4 5 6 7 8 9 10 11]], ornt: [u'c'], "
           "transcriptions: [u'CURVE']\n"
           "x: [[3 -4 9]], y: [[2 6 -1]], ornt: [u'h'], transcriptions: [u',']\n"
           "x: [[2 6 4]], y: [[10 10 14]], ornt: [u'h'], transcriptions: [u'#']\n"
           "x: [[7 8 9]], y: [[1 5 1]], ornt: [u'h'], transcriptions: [u'a,b']\n"
           "x: [[4]], y: [[4]], ornt: [u'h'], transcriptions: [u'dot']\n"
           "x: [[10 20 20 10]], y: [[1 1 9 9]], ornt: [u'h'], transcriptions: []\n")


def totaltext_txt(root: Path, hash_words: bool = True) -> Path:
    """Wrapped records, negative coordinates, ``#``/``,``/empty transcriptions, a comma in a
    word, a single-point region (dropped), an empty file; img1/img10/img2 sort as strings.
    ``hash_words=False``: without the ``#`` and ``,`` transcriptions."""
    tr, gt = root / "imgs" / "training", root / "annotations" / "training"
    for name in ("img1.jpg", "img10.jpg", "img2.png"):
        image(tr / name)
    text(gt / "poly_gt_img1.txt", TT_IMG1 if hash_words else "".join(
        line for line in TT_IMG1.splitlines(True) if "u'#'" not in line and "u','" not in line))
    text(gt / "poly_gt_img10.txt", "")
    text(gt / "poly_gt_img2.txt", "x: [[10 20 20 10]], y: [[1 1 9 9]], ornt: [u'h'], "
         "transcriptions: [u'TOTAL']")
    image(root / "imgs" / "test" / "img5.jpg")
    text(root / "annotations" / "test" / "poly_gt_img5.txt",
         "x: [[0 6 6 0]], y: [[0 0 4 4]], ornt: [u'h'], transcriptions: [u'Te']\n")
    return root


def _mat(path: Path, key: str, rows: list[tuple[np.ndarray, np.ndarray, str]]) -> None:
    import scipy.io

    cells = np.empty((len(rows), 6), dtype=object)
    for i, (xs, ys, word) in enumerate(rows):
        for j, v in enumerate(["x:", np.array([xs]), "y:", np.array([ys]), word, "h"]):
            cells[i, j] = v
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(str(path), {key: cells})


def totaltext_mat(root: Path) -> Path:
    """Legacy ``polygt`` (integers) and current ``gt`` (doubles) .mat files; ``#`` and empty
    words."""
    tr, gt = root / "imgs" / "training", root / "annotations" / "training"
    image(tr / "img1.jpg")
    image(tr / "img2.jpg")
    _mat(gt / "poly_gt_img1.mat", "polygt", [([1, 9, 9, 1], [1, 1, 6, 6], "Hi"),
                                             ([2, 8, 5], [7, 7, 12], "#"),
                                             ([3, 4, 6, 2], [2, 2, 5, 5], "")])
    _mat(gt / "poly_gt_img2.mat", "gt", [(np.array([0.5, 9.0, 9.0]), np.array([0.0, 1.5, 8.0]),
                                          "dbl")])
    image(root / "imgs" / "test" / "img3.jpg")
    _mat(root / "annotations" / "test" / "gt_img3.mat", "gt",
         [(np.array([1.0, 5.0, 5.0, 1.0]), np.array([1.0, 1.0, 4.0, 4.0]), "t")])
    return root


def synthtext(root: Path) -> Path:
    """``gt.mat`` as SynthText's: ``txt`` char matrices (rows padded with spaces, words across
    lines), ``wordBB``/``charBB`` of shape (2, 4, n), or (2, 4) for a single box (MATLAB drops
    the trailing 1)."""
    import scipy.io

    image(root / "imgs" / "8" / "ballet_1.jpg", 30, 40)
    image(root / "imgs" / "8" / "ballet_2.jpg", 24, 24)

    def quad(x, y, w, h):
        return np.array([[x, x + w, x + w, x], [y, y, y + h, y + h]], dtype=np.float64)

    chars1 = [quad(2 + 4 * i, 3 + (i % 2), 3.6, 5.2) for i in range(7)]     # "Hi" "you" "ok"
    words1 = [quad(2, 3, 7.5, 6), quad(10, 3, 11.2, 6.4), quad(22.3, 3, 7, 6)]
    chars2 = [quad(1 + 3 * i, 2, 2.5, 4) for i in range(3)]                  # "abc"
    n = 2
    cells = {k: np.empty((1, n), dtype=object) for k in ("imnames", "wordBB", "charBB", "txt")}
    cells["imnames"][0, 0], cells["imnames"][0, 1] = "8/ballet_1.jpg", "8/ballet_2.jpg"
    cells["wordBB"][0, 0] = np.stack(words1, axis=2)
    cells["wordBB"][0, 1] = quad(1, 2, 8.5, 4)
    cells["charBB"][0, 0] = np.stack(chars1, axis=2)
    cells["charBB"][0, 1] = np.stack(chars2, axis=2)
    cells["txt"][0, 0] = np.array(["Hi you", "ok    "])
    cells["txt"][0, 1] = np.array(["abc"])
    scipy.io.savemat(str(root / "gt.mat"), cells)
    return root


def _json(path: Path, obj) -> None:
    import json

    text(path, json.dumps(obj, ensure_ascii=False))


def textocr(root: Path) -> Path:
    """``TextOCR_0.1_{train,val}.json``: an illegible ``.`` word, float and negative boxes and
    points, a box reaching outside the image, an image without words, extra image fields."""
    image(root / "train" / "a1.jpg", 30, 40)
    image(root / "train" / "a2.jpg", 20, 24)
    image(root / "train" / "b1.jpg", 16, 20)

    def ann(aid, img, bbox, word, points):
        return aid, dict(id=aid, image_id=img, bbox=bbox, utf8_string=word, points=points,
                         area=round(bbox[2] * bbox[3], 2))

    anns = dict([ann("a1_1", "a1", [2.4, 3.6, 10.2, 6.0], "Hello", [2.4, 3.6, 12.6, 3.6, 12.6,
                                                                     9.6, 2.4, 9.6]),
                 ann("a1_2", "a1", [-1.5, 4, 5, 5], ".", [-1.5, 4, 3.5, 4, 3.5, 9, -1.5, 9]),
                 ann("a1_3", "a1", [30.2, 20, 15, 12], "edge", [30.2, 20, 45, 20, 45, 32, 30, 32,
                                                                 33, 26]),
                 ann("a1_4", "a1", [5, 12, 4, 14], "tall", [5, 12, 9, 12, 9, 26, 5, 26])])
    imgs = {"a1": dict(id="a1", width=40, height=30, set="train", file_name="train/a1.jpg"),
            "a2": dict(id="a2", width=24, height=20, set="train", file_name="train/a2.jpg")}
    _json(root / "TextOCR_0.1_train.json", dict(
        imgs=imgs, anns=anns, imgToAnns={"a1": ["a1_1", "a1_2", "a1_3", "a1_4"], "a2": []}))
    _json(root / "TextOCR_0.1_val.json", dict(
        imgs={"b1": dict(id="b1", width=20, height=16, set="val", file_name="train/b1.jpg")},
        anns=dict([ann("b1_1", "b1", [1, 1, 8, 5], "né", [1, 1, 9, 1, 9, 6, 1, 6])]),
        imgToAnns={"b1": ["b1_1"]}))
    return root


def cocotext(root: Path) -> Path:
    """``annotations/cocotext.v2.json``: not-English and illegible words, a short mask (the
    box's corners instead), a tall training word, images without text, both sets."""
    for i, (h, w) in enumerate([(30, 40), (20, 24), (24, 30), (18, 20)], 1):
        image(root / "imgs" / f"COCO_{i}.jpg", h, w)

    def ann(aid, img, bbox, word, mask, language="english", legibility="legible"):
        return str(aid), dict(mask=mask, bbox=bbox, image_id=img, id=aid, language=language,
                              area=round(bbox[2] * bbox[3], 2), utf8_string=word,
                              legibility=legibility, **{"class": "machine printed"})

    anns = dict([ann(10, 1, [2.5, 3.2, 10.1, 6.3], "New", [2.5, 3.2, 12.6, 3.2, 12.6, 9.5, 2.5,
                                                              9.5]),
                 ann(11, 1, [1, 1, 5, 4], "Ü", [1, 1, 6, 1, 6], "not english"),
                 ann(12, 1, [20, 2, 6, 5], "blur", [20, 2, 26, 2, 26, 7, 20, 7],
                     legibility="illegible"),
                 ann(13, 1, [30, 5, 4, 20], "tall", [30, 5, 34, 5]),
                 ann(14, 3, [4, 4, 12, 6], "val", [4, 4, 16, 4, 16, 10, 4, 10, 3, 7]),
                 ann(15, 3, [0, 0, 3, 3], "Zürich", [0, 0, 3, 0, 3, 3, 0, 3])])
    imgs = {str(i): dict(id=i, set=s, width=w, height=h, file_name=f"COCO_{i}.jpg")
            for i, s, h, w in [(1, "train", 30, 40), (2, "train", 20, 24), (3, "val", 24, 30),
                               (4, "val", 18, 20)]}
    _json(root / "annotations" / "cocotext.v2.json", dict(
        anns=anns, imgs=imgs, imgToAnns={"1": [10, 11, 12, 13], "2": [], "3": [14, 15],
                                         "4": []}))
    return root


def art_lsvt(root: Path, name: str) -> Path:
    """ArT's / LSVT's label file: ``###`` and illegible words, negative and curved points, a
    tall word, a name without image (skipped), an image without words; ArT's task-2 labels."""
    for stem, (h, w) in {"gt_0": (30, 40), "gt_1": (20, 24), "gt_3": (24, 30),
                         "gt_4": (16, 16)}.items():
        image(root / "imgs" / f"{stem}.jpg", h, w)

    def word(text, points, illegible=False):
        return dict(transcription=text, points=points, language="Latin", illegibility=illegible)

    _json(root / "annotations" / name, {
        "gt_0": [word("燎申", [[2, 3], [14, 3], [14, 9], [2, 9]]),
                 word("###", [[-2, 1], [6, 1], [6, 5], [-2, 5]], True),
                 word("curve", [[1, 10], [8, 12], [15, 11], [22, 14], [22, 18], [1, 16]])],
        "gt_1": [word("tall", [[3, 1], [7, 1], [7, 15], [3, 15]]),
                 word("hid", [[10, 2], [16, 2], [16, 6], [10, 6]], True)],
        "gt_2": [word("gone", [[0, 0], [4, 0], [4, 4], [0, 4]])],
        "gt_3": [word("val", [[4, 4], [16, 4], [16, 10], [4, 10]])],
        "gt_4": []})
    return root


def art_task2(root: Path) -> Path:
    """ArT's ``train_task2_labels.json`` (pre-cropped words)."""
    _json(root / "annotations" / "train_task2_labels.json", {
        f"gt_{i}_0": [dict(transcription=t, points=[[0, 0], [5, 0], [5, 4]], language="Latin",
                           illegibility=False)] for i, t in enumerate(["URDER", "燎申", "a b",
                                                                        "###"])})
    return root
