"""Hand-made miniature trees, in each data set's native layout and annotation format, for the
converters of tests/tools/data/test_more_converters.py (IC11, IC13, SVT, FUNSD, SROIE, NAF,
VinText, BID, DeText, ILST, IMGUR5K, KAIST, LV); the other data tools' inputs are in
more_tool_trees.py."""
from __future__ import annotations

import json
from pathlib import Path

from converter_trees import BOM, image, text


def _gif(path: Path, h: int, w: int) -> None:
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(h * w)
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).convert("P").save(path)


def ic13(root: Path, sep: str = " ", gif: bool = False) -> Path:
    """Training ``left top right bottom "text"`` (``sep``), test ``l, t, r, b, "text"``: negative
    corners (clipped), a line without text, a last line without newline, CRLF, an empty file,
    img_1 / img_10 / img_2 (string order), a grayscale PNG, a name with two dots; IC11
    (``gif``): ``,`` in both splits and a GIF image."""
    tr, gt = root / "imgs" / "training", root / "annotations" / "training"
    image(tr / "img_1.jpg", 30, 40)
    image(tr / "img_10.png", 18, 22, gray=True)
    image(tr / "img_2.v2.jpg")
    s = sep
    text(gt / "gt_img_1.txt", f'10{s}5{s}30{s}25{s}"Hi"\n-3{s}2{s}9{s}-1{s}"neg, x"\n'
         f'4{s}4{s}8{s}9\n')
    text(gt / "gt_img_10.txt", "")
    text(gt / "gt_img_2.txt", f'1{s}1{s}5{s}5{s}"last"')
    if gif:
        _gif(tr / "img_3.gif", 16, 20)
        text(gt / "gt_img_3.txt", f'2{s}3{s}12{s}9{s}"gif"\n')
    image(root / "imgs" / "test" / "img_1.jpg", 12, 14)
    text(root / "annotations" / "test" / "gt_img_1.txt",
         '38, 4, 90, 6, "Tired, ness"\r\n1, 1, 5, 5, "x"\r\n')
    return root


def ic11(root: Path) -> Path:
    return ic13(root, sep=",", gif=True)


def ic13_recog(root: Path, challenge: str = "2") -> Path:
    """``Challenge<N>_{Train,Test}_Task3_GT.txt``: a BOM, commas and quotes in words, non-ASCII,
    a last line without newline."""
    ann = root / "annotations"
    text(ann / f"Challenge{challenge}_Train_Task3_GT.txt",
         BOM + 'word_1.png, "flying"\nword_2.png, "a, b"\r\nword_3.png, "Café"\n'
         'word_4.png, """\n')
    text(ann / f"Challenge{challenge}_Test_Task3_GT.txt", 'word_1.png, "1,000"\n')
    return root


def svt(root: Path) -> Path:
    """Two images (one grayscale), a rectangle reaching past the left/top edge (clipped) and
    past the right edge, mixed-case words and lexicons."""
    image(root / "img" / "14_03.jpg", 40, 60)
    image(root / "img" / "00_01.jpg", 30, 30, gray=True)

    def rect(x, y, w, h, tag):
        return (f'<taggedRectangle height="{h}" width="{w}" x="{x}" y="{y}">'
                f'<tag>{tag}</tag></taggedRectangle>')

    text(root / "test.xml", "<tagset><image><imageName>img/14_03.jpg</imageName>"
         "<address>x</address><lex>HOTEL,Park,Inn</lex><Resolution x='60' y='40'/>"
         "<taggedRectangles>" + rect(3, 4, 20, 10, "HOTEL") + rect(-2, -3, 12, 10, "Park")
         + rect(50, 30, 20, 20, "edge") + "</taggedRectangles></image>"
         "<image><imageName>img/00_01.jpg</imageName><lex>one</lex><taggedRectangles>"
         + rect(1, 1, 9, 5, "One") + "</taggedRectangles></image></tagset>")
    return root


def funsd(root: Path) -> Path:
    """Float and reversed boxes, an empty text (iscrowd / not cropped), a tall word (vertical),
    non-ASCII text, a box outside the image (an empty crop), a form entry without words."""
    for name, (h, w) in {"0001": (40, 50), "0002": (30, 30), "0003": (20, 24)}.items():
        image(root / "imgs" / f"{name}.png", h, w)

    def words(*ws):
        return [dict(box=list(b), text=t) for b, t in ws]

    forms = {
        "training/0001.json": [dict(words=words(([2, 3, 20, 12], "Name"),
                                                ([30.5, 20.2, 22.7, 12.9], "rev"),
                                                ([5, 5, 9, 9], ""), ([40, 2, 44, 30], "tall"))),
                               dict(words=[]), dict(words=words(([1, 30, 15, 38], "Dé")))],
        "training/0002.json": [dict(words=words(([40, 40, 60, 50], "out"),
                                                ([-3, -2, 10, 8], "neg")))],
        "test/0003.json": [dict(words=words(([2, 2, 12, 8], "t")))],
    }
    for rel, form in forms.items():
        text(root / "annotations" / rel, json.dumps(dict(form=form), ensure_ascii=False))
    return root


def sroie(root: Path, recog: bool = False) -> Path:
    """Receipt quadrangles: a header line and a blank line (skipped), a box past the image edge,
    a negative corner, a crop outside the image (empty), CRLF, SROIE's repeated files (``(``,
    ``X51006619570.txt``: left out, no image); not for ``recog``: a transcript with a comma and
    a line without transcript (read differently here)."""
    tr, gt = root / "imgs" / "training", root / "annotations" / "training"
    image(tr / "X1.jpg", 40, 30)
    image(tr / "X2.jpg", 20, 20, gray=True)
    extra = "" if recog else "3,30,20,30,20,36,3,36,TOTAL 1,000\n2,2,9,2,9,6,2,6\n"
    text(gt / "X1.txt", "x1,y1,x2,y2,x3,y3,x4,y4,text\n1,2,25,2,25,9,1,9,RECEIPT\n\n"
         "-2,10,12,10,12,16,-2,16,Tel:\n5,18,40,18,40,24,5,24,edge\n" + extra)
    text(gt / "X2.txt",
         "1,1,8,1,8,5,1,5,a\r\n30,30,35,30,35,35,30,35,out\r\n4,6,12,6,12,9,4,9,\r\n")
    text(gt / "X2(1).txt", "1,1,8,1,8,5,1,5,dup\n")
    text(gt / "X51006619570.txt", "1,1,8,1,8,5,1,5,gone\n")
    image(root / "imgs" / "test" / "T1.jpg", 16, 16)
    text(root / "annotations" / "test" / "T1.txt", "2,2,12,2,12,8,2,8,t\n")
    return root


def naf(root: Path) -> Path:
    """A split file listing a missing image (left out); printed ``textBBs`` and ``fieldBBs``:
    blank, illegible (``§``, ``¿``), struck-through (``«»``), ``\\u202a``-wrapped, empty and
    untranscribed fields, a tall training field (ignored), an image without ``transcriptions``."""
    for name, (h, w) in {"a.jpg": (40, 50), "b.jpg": (20, 20), "c.jpg": (24, 30),
                         "d.jpg": (16, 16)}.items():
        image(root / "imgs" / name, h, w)

    def box(i, x, y, w, h, kind="text"):
        return dict(poly_points=[[x, y], [x + w, y], [x + w, y + h], [x, y + h]], type=kind,
                    id=i)

    ann = root / "annotations"
    text(ann / "train_valid_test_split.json", json.dumps(dict(
        train=dict(g1=["a.jpg", "missing.jpg"], g2=["b.jpg"]), valid=dict(g1=["c.jpg"]),
        test=dict(g2=["d.jpg"]))))
    text(ann / "groups" / "g1" / "a.json", json.dumps(dict(
        textBBs=[box("t1", 1, 1, 20, 6), box("t2", -2, 8, 10, 5)],
        fieldBBs=[box("f1", 2, 15, 20, 6, "fieldRegion"), box("f2", 25, 15, 10, 6, "blank"),
                  box("f3", 2, 22, 9, 5, "fieldRegion"), box("f4", 12, 22, 9, 5, "fieldRegion"),
                  box("f5", 22, 22, 9, 5, "fieldRegion"), box("f6", 40, 2, 4, 30, "fieldRegion"),
                  box("f7", 2, 30, 9, 5, "fieldRegion"), box("f8", 30, 30, 9, 5, "fieldRegion"),
                  box("f9", 12, 30, 9, 5, "fieldRegion")],
        transcriptions=dict(f1="«July» 1", f2="", f3="J§hn", f4="\u202aSmith\u202a", f5="a¿",
                            f6="tall", f7="", f9="«»"))))
    text(ann / "groups" / "g2" / "b.json", json.dumps(dict(
        textBBs=[box("t1", 1, 1, 8, 6)], fieldBBs=[box("f1", 2, 10, 8, 6, "fieldRegion")])))
    text(ann / "groups" / "g1" / "c.json", json.dumps(dict(
        textBBs=[], fieldBBs=[box("f1", 3, 2, 4, 20, "fieldRegion")], transcriptions=dict(
            f1="Vert"))))
    text(ann / "groups" / "g2" / "d.json", json.dumps(dict(
        textBBs=[], fieldBBs=[box("f1", 1, 1, 8, 5, "fieldRegion")], transcriptions=dict(
            f1="d"))))
    return root


def vintext(root: Path) -> Path:
    """Vietnamese words, ``###``, a word with a comma, an empty word, a tall training word
    (ignored), a box outside the image (an empty crop, still numbered), CRLF, an empty file;
    ``imNNNN.jpg`` -> ``gt_N.txt``."""
    tr = root / "imgs" / "training"
    image(tr / "im0001.jpg", 40, 50)
    image(tr / "im0002.jpg", 20, 20)
    image(tr / "im0010.jpg", 20, 24, gray=True)
    image(root / "imgs" / "test" / "im1201.jpg", 16, 20)
    image(root / "imgs" / "unseen_test" / "im1501.jpg", 16, 20)
    ann = root / "annotations"
    text(ann / "gt_1.txt", "2,2,20,2,20,9,2,9,LƯỢNG\n3,10,15,11,15,16,3,15,###\n"
         "60,60,70,60,70,66,60,66,out\n21,12,40,12,40,20,21,20,LÀM,\n42,2,46,2,46,30,42,30,tall\n"
         "5,20,15,20,15,26,5,26,\n1,30,20,30,20,38,1,38,TỐT\n")
    text(ann / "gt_2.txt", "")
    text(ann / "gt_10.txt", "1,1,10,1,10,6,1,6,CÓ\r\n")
    text(ann / "gt_1201.txt", "1,1,12,1,12,6,1,6,VIỆC\n4,4,5,4,5,14,4,14,dọc\n")
    text(ann / "gt_1501.txt", "2,2,9,2,9,7,2,7,ĐỂ\n")
    return root


def bid(root: Path) -> Path:
    """``x, y, w, h, text`` Latin-1 lines: the header, a ``[`` hard sample (skipped), a word with
    commas, an empty word, a tall word (ignored in training), a box outside the image (an empty
    crop, still numbered), CRLF."""
    for i, (h, w) in enumerate([(40, 50), (20, 24), (16, 16)], 1):
        image(root / "imgs" / f"0000000{i}_in.jpg", h, w, gray=i == 2)
    ann = root / "annotations"
    text(ann / "00000001_gt_ocr.txt", "x, y, w, h, text\n2, 3, 20, 6, NOME\n"
         "[4, 5, 6, 7, hard]\n4, 12, 18, 6, SILVA, JOSÉ\n60, 60, 5, 5, out\n"
         "42, 2, 4, 30, tall\n1, 20, 9, 5, \n".encode("latin-1"))
    text(ann / "00000002_gt_ocr.txt", "x, y, w, h, text\r\n1, 1, 10, 5, RG\r\n")
    text(ann / "00000003_gt_ocr.txt", "2, 2, 9, 6, CPF\n")
    return root


def detext(root: Path) -> Path:
    """SROIE-like quadrangle lines: an invalid line (skipped), ``###``, an empty transcript
    (numbered, not cropped), a tall training word (ignored), a box outside the image."""
    image(root / "imgs" / "training" / "a1.jpg", 40, 50)
    image(root / "imgs" / "training" / "a2.jpg", 20, 20, gray=True)
    image(root / "imgs" / "val" / "v1.jpg", 16, 20)
    gt = root / "annotations" / "training"
    text(gt / "gt_a1.txt", "1,2,25,2,25,9,1,9,CT\nbad line\n3,10,15,11,15,16,3,15,###\n"
         "60,60,70,60,70,66,60,66,out\n2,20,15,20,15,26,2,26,\n42,2,46,2,46,30,42,30,tall\n"
         "-2,30,20,30,20,38,-2,38,MRI\n")
    text(gt / "gt_a2.txt", "")
    text(root / "annotations" / "val" / "gt_v1.txt", "1,1,12,1,12,6,1,6,v\n4,4,5,4,5,14,4,14,up\n")
    return root


def ilst(root: Path) -> Path:
    """Pascal VOC XML: Devanagari words, a tall word (ignored in training), a box outside the
    image (an empty crop, still numbered); an image without XML (left out), a broken image with
    XML (skipped)."""
    image(root / "imgs" / "i1.jpg", 40, 50)
    image(root / "imgs" / "i2.png", 20, 24, gray=True)
    image(root / "imgs" / "i3.jpg")
    text(root / "imgs" / "broken.jpg", "not an image")

    def voc(*objs):
        return "<annotation><filename>x</filename>" + "".join(
            f"<object><name>{w}</name><pose>Unspecified</pose><difficult>0</difficult><bndbox>"
            f"<xmin>{a}</xmin><ymin>{b}</ymin><xmax>{c}</xmax><ymax>{d}</ymax></bndbox></object>"
            for w, a, b, c, d in objs) + "</annotation>"

    ann = root / "annotations"
    text(ann / "i1.xml", voc(("नमस्ते", 2, 3, 22, 10), ("out", 60, 60, 70, 66),
                             ("tall", 42, 2, 46, 30), ("SMT", 1, 20, 15, 28)))
    text(ann / "i2.xml", voc(("ab", 1, 1, 12, 6)))
    text(ann / "broken.xml", voc(("x", 1, 1, 5, 5)))
    return root


def imgur(root: Path) -> Path:
    """Oriented boxes (0, 15, -80, 45 and 90 degrees), one past the image edge, one outside it
    (an empty crop), a non-ASCII word; a missing and a broken image (left out)."""
    image(root / "imgs" / "i1.jpg", 60, 80)
    image(root / "imgs" / "i2.jpg", 30, 30, gray=True)
    image(root / "imgs" / "v1.jpg", 20, 24)
    text(root / "imgs" / "broken.jpg", "not an image")
    boxes = {"a": ("[30.0, 20.0, 40.0, 10.0, 0.0]", "hello"),
             "b": ("[40.5, 30.25, 30.0, 12.0, 15.0]", "café"),
             "c": ("[10.0, 30.0, 8.0, 30.0, -80.0]", "up"),
             "d": ("[75.0, 55.0, 20.0, 20.0, 45.0]", "edge"),
             "e": ("[200.0, 200.0, 5.0, 5.0, 0.0]", "gone"),
             "f": ("[15.0, 15.0, 20.0, 6.0, 90.0]", "."),
             "g": ("[10.0, 10.0, 12.0, 6.0, 0.0]", "v"), "h": ("[5.0, 5.0, 4.0, 4.0, 0.0]", "x")}

    def split(index):
        return json.dumps(dict(index_to_ann_map=index, ann_id={
            k: dict(word=w, bounding_box=b) for k, (b, w) in boxes.items()}), ensure_ascii=False)

    ann = root / "annotations"
    text(ann / "imgur5k_annotations_train.json", split({"i1": ["a", "b", "c", "d", "e"],
                                                        "i2": ["f"], "nope": ["h"]}))
    text(ann / "imgur5k_annotations_val.json", split({"v1": ["g"]}))
    text(ann / "imgur5k_annotations_test.json", split({"broken": ["h"]}))
    return root


def _kaist_xml(*words) -> str:
    def word(x, y, w, h, chars):
        return (f'<word x="{x}" y="{y}" width="{w}" height="{h}">' + "".join(
            f'<character x="{x}" y="{y}" width="2" height="{h}" char="{c}" />' for c in chars)
            + "</word>")

    return ("<image><imageName>DSC.JPG</imageName><resolution x='9' y='9' /><words>"
            + "".join(word(*w) for w in words) + "</words><difficulty>2</difficulty></image>")


def kaist(root: Path) -> Path:
    """Latin and Hangul words, a word without characters (a box, no crop), a tall word (ignored),
    a box outside the image (an empty crop, still numbered), a negative corner."""
    for i, (h, w) in enumerate([(40, 50), (20, 24), (16, 16), (24, 30)]):
        image(root / "imgs" / f"0000{i}.jpg", h, w, gray=i == 1)
    ann = root / "annotations"
    text(ann / "00000.xml", _kaist_xml((2, 3, 20, 7, "CLAV"), (60, 60, 5, 5, "out"),
                                       (4, 12, 10, 6, ""), (42, 2, 4, 30, "I"),
                                       (-2, 20, 12, 8, "한글")))
    text(ann / "00001.xml", _kaist_xml((1, 1, 10, 5, "AB")))
    text(ann / "00002.xml", _kaist_xml())
    text(ann / "00003.xml", _kaist_xml((3, 2, 12, 6, "가"), (2, 10, 3, 12, "T")))
    return root


def kaist_zips(root: Path) -> Path:
    """``KAIST/<language>/<camera>/*.zip`` as downloaded: pairs with ``.jpg`` and ``.JPG``
    images, an XML without image, a broken XML (both left out), a subfolder (not looked into)."""
    import io
    import zipfile

    import cv2
    import numpy as np

    def jpg(h, w):
        return cv2.imencode(".jpg", np.full((h, w, 3), h * 7 % 255, np.uint8))[1].tobytes()

    def make(path: Path, members: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, data in members.items():
                zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data)
        path.write_bytes(buf.getvalue())

    k = root / "KAIST"
    for lang in ("English", "Korean", "Mixed"):
        for cam in ("Digital_Camera", "Mobile_Phone"):
            (k / lang / cam).mkdir(parents=True, exist_ok=True)
    make(k / "English" / "Digital_Camera" / "e1.zip", {
        "DSC1.xml": _kaist_xml((1, 1, 5, 5, "A")), "DSC1.JPG": jpg(10, 12),
        "DSC2.xml": _kaist_xml((2, 2, 4, 4, "B")), "DSC2.jpg": jpg(8, 9),
        "lone.xml": _kaist_xml(), "bad.xml": "<image><words>", "bad.jpg": jpg(5, 5),
        "sub/DSC3.xml": _kaist_xml(), "sub/DSC3.jpg": jpg(6, 6)})
    make(k / "Korean" / "Mobile_Phone" / "k1.zip", {
        "P1.xml": _kaist_xml((1, 2, 6, 3, "가")), "P1.jpg": jpg(11, 13)})
    (root / "imgs").mkdir(exist_ok=True)
    (root / "annotations").mkdir(exist_ok=True)
    return root


def lv(root: Path) -> Path:
    """``imgs/<split>/<video>/<frame>/`` with Pascal VOC XML and PNG: two frames with images of
    the same name, a file in a video folder, an XML without PNG (left out), a negative corner;
    the shipped ``<split>_label.txt`` (words with spaces, CRLF, non-ASCII)."""
    def voc(*boxes):
        return "<annotation>" + "".join(
            f"<object><name>w</name><bndbox><xmin>{a}</xmin><ymin>{b}</ymin><xmax>{c}</xmax>"
            f"<ymax>{d}</ymax></bndbox></object>" for a, b, c, d in boxes) + "</annotation>"

    tr = root / "imgs" / "train"
    image(tr / "11" / "1" / "1.png", 30, 40)
    text(tr / "11" / "1" / "1.xml", voc((2, 3, 20, 10), (5, 12, 30, 20)))
    image(tr / "11" / "2" / "1.png", 20, 20, gray=True)
    text(tr / "11" / "2" / "1.xml", voc((1, 1, 8, 6)))
    text(tr / "11" / "notes.txt", "x")
    text(tr / "12" / "1" / "2.xml", voc((1, 1, 4, 4)))
    image(tr / "12" / "1" / "3.png")
    image(root / "imgs" / "val" / "3" / "1" / "a.png", 16, 16)
    text(root / "imgs" / "val" / "3" / "1" / "a.xml", voc())
    image(root / "imgs" / "test" / "4" / "1" / "b.png", 16, 16)
    text(root / "imgs" / "test" / "4" / "1" / "b.xml", voc((-3, 2, 9, 9)))
    text(root / "train_label.txt", "Crops/train/11/1/1.png weighted\r\n"
         "Crops/train/11/1/2.png 26 x\r\n")
    text(root / "val_label.txt", "Crops/val/3/1/1.png Übung\n")
    text(root / "test_label.txt", "")
    return root



def tree_files(root) -> dict[str, bytes]:
    """``{relative path: bytes}`` of every file under ``root``."""
    import os

    found = {}
    for d, _, files in os.walk(root):
        for f in files:
            path = os.path.join(d, f)
            with open(path, "rb") as fh:
                found[os.path.relpath(path, root)] = fh.read()
    return found
