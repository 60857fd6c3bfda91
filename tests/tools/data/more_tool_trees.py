"""Hand-made inputs of the data tools that take files of their own rather than a data set tree
(WildReceipt close-set lines, SynthText character boxes, CurvedSynText150k, OpenVINO, LabelMe),
for tests/tools/data/test_more_converters.py."""
from __future__ import annotations

import json
from pathlib import Path

from converter_trees import image, text


def wildreceipt_closeset(root: Path) -> Path:
    """Close-set lines: ignore (0) and others (25), a key before and after its value, a label
    seen twice, non-ASCII text, an existing ``edge`` key, a line without annotations."""
    def box(label, t, **extra):
        return dict(box=[1, 2, 3, 2, 3, 4, 1, 4], text=t, label=label, **extra)

    lines = [dict(file_name="image_files/a.jpeg", height=100, width=80, annotations=[
                 box(1, "Store"), box(2, "Name:"), box(0, "x"), box(25, "£9"), box(4, "Addr"),
                 box(3, "Road"), box(1, "More"), box(10, "Tel", edge=7), box(23, "v")]),
             dict(file_name="image_files/b.jpeg", height=10, width=8, annotations=[])]
    text(root / "closeset.txt", "".join(json.dumps(line, ensure_ascii=False) + "\n"
                                        for line in lines))
    return root


def seg_synthtext(root: Path) -> Path:
    """A mapping file with a pair whose image is missing (left out); words with and without
    character boxes, non-ASCII, float and integer coordinates."""
    image(root / "1" / "a.jpg")
    image(root / "1" / "b.jpg")
    text(root / "1" / "a.txt", "Hé\n1 2 3 4 5 6 7 8\n2.5 3 4 5 6 7 8 9\n")
    text(root / "1" / "b.txt", "x\n")
    text(root / "mapping.txt", "1/a.jpg 1/a.txt\n1/b.jpg 1/b.txt\n1/missing.jpg 1/a.txt\n")
    return root


def curvedsyntext(root: Path) -> Path:
    """ABCNet-style COCO files: Bezier control points (floats, a curved and a straight box),
    ``rec`` index lists ended by 96 and padded, a punctuation-only word, an image without
    annotations; ids not starting at 0."""
    def ann(i, img, pts, word):
        rec = [ord(c) - 32 for c in word] + [96] * (25 - len(word))
        return dict(area=10.0, bbox=[1, 2, 3, 4], bezier_pts=pts, category_id=1, id=i,
                    image_id=img, iscrowd=0, rec=rec)

    curve = [1.5, 10.0, 5.2, 4.0, 12.0, 3.5, 20.25, 9.0, 19.0, 14.0, 12.0, 9.5, 6.0, 10.5, 2.0,
             16.0]
    line = [0, 0, 3, 0, 6, 0, 9, 0, 9, 5, 6, 5, 3, 5, 0, 5]
    text(root / "train1.json", json.dumps(dict(
        licenses=[], info={}, categories=[dict(id=1, name="text", keypoints=[])],
        images=[dict(file_name="0000003.jpg", id=3, height=40, width=40),
                dict(file_name="0000005.jpg", id=5, height=40, width=40)],
        annotations=[ann(7, 3, curve, "Hello!"), ann(9, 3, line, "a b"),
                     ann(8, 5, line, "?!")])))
    text(root / "train2.json", json.dumps(dict(
        images=[dict(file_name="emcs_1.jpg", id=0, height=30, width=30),
                dict(file_name="emcs_2.jpg", id=1, height=30, width=30)],
        annotations=[ann(0, 0, curve, "Zz~")], categories=[])))
    return root


def openvino(root: Path) -> Path:
    """Open Images JPEGs (colour and grey) with OpenVINO's word attributes: illegible and
    non-English words (left out, still numbered), fractional boxes, a box past the edge."""
    from PIL import Image
    import numpy as np

    rng = np.random.default_rng(3)
    for i, (name, mode) in enumerate([("a.jpg", "RGB"), ("b.jpg", "L"), ("c.jpg", "RGB"),
                                      ("d.jpg", "RGB"), ("e.jpg", "RGB"), ("v.jpg", "L")]):
        shape = (30 + i, 40) if mode == "L" else (30 + i, 40, 3)
        (root / "imgs").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8), mode).save(
            root / "imgs" / name, quality=60 + 5 * i)

    def ann(img_id, bbox, word, legible=True, language="english"):
        return dict(image_id=img_id, bbox=bbox, category_id=1, attributes=dict(
            transcription=word, legible=legible, language=language))

    def coco(images, anns):
        return json.dumps(dict(images=[dict(id=i, file_name=f"imgs/{n}") for i, n in images],
                               annotations=anns))

    text(root / "text_spotting_openimages_v5_train_1.json", coco(
        [(10, "a.jpg"), (11, "b.jpg")],
        [ann(10, [1.5, 2.2, 10.1, 6.0], "Hello"), ann(10, [3, 3, 5, 5], "x", legible=False),
         ann(10, [30, 20, 20, 20], "edge"), ann(11, [2, 2, 9, 4], "grey"),
         ann(10, [4, 9, 8, 5], "hola", language="spanish"), ann(10, [0, 0, 4, 4], "z")]))
    text(root / "text_spotting_openimages_v5_train_2.json", coco([(1, "c.jpg")],
                                                                 [ann(1, [2, 2, 5, 5], "c")]))
    text(root / "text_spotting_openimages_v5_train_5.json", coco([(1, "d.jpg")],
                                                                 [ann(1, [1, 1, 6, 6], "d")]))
    text(root / "text_spotting_openimages_v5_train_f.json", coco([(1, "e.jpg"), (2, "a.jpg")], [
        ann(1, [1, 1, 6, 6], "e"), ann(2, [2, 3, 7, 4], "a2")]))
    text(root / "text_spotting_openimages_v5_validation.json", coco([(4, "v.jpg")],
                                                                    [ann(4, [1, 2, 8, 5], "v")]))
    return root


def labelme(root: Path) -> Path:
    """LabelMe files: a 4-point polygon (float points, truncated), a rectangle, a 6-point
    polygon (cropped by its bounds), ``###`` and empty labels (no crop), non-ASCII text; a file
    with a circle (left out, with a warning)."""
    image(root / "imgs" / "a.jpg", 40, 50)
    image(root / "imgs" / "b.png", 30, 30, gray=True)
    image(root / "imgs" / "c.jpg", 20, 20)

    def shape(kind, points, label):
        return dict(label=label, points=points, group_id=None, shape_type=kind, flags={})

    def lm(name, h, w, shapes):
        return json.dumps(dict(version="4.5.6", flags={}, shapes=shapes,
                               imagePath=f"..\\\\imgs\\\\{name}" if name == "x" else
                               f"../imgs/{name}", imageData=None, imageHeight=h,
                               imageWidth=w), ensure_ascii=False)

    js = root / "json"
    text(js / "a.json", lm("a.jpg", 40, 50, [
        shape("polygon", [[2.7, 3.2], [20, 3], [21, 10], [2, 11]], "Hello"),
        shape("rectangle", [[5, 15], [30, 22]], "Größe"),
        shape("polygon", [[1, 25], [10, 24], [20, 25], [20, 32], [10, 33], [1, 32]], "curve"),
        shape("polygon", [[30, 2], [40, 2], [40, 8], [30, 8]], "###"),
        shape("rectangle", [[3, 34], [9, 38]], ""),
        shape("polygon", [[35, 30], [48, 31], [47, 38], [34, 37]], "last")]))
    text(js / "b.json", lm("b.png", 30, 30, [
        shape("polygon", [[1, 1], [15, 2], [15, 9], [1, 8]], "b")]))
    text(js / "c.json", lm("c.jpg", 20, 20, [shape("circle", [[5, 5], [8, 8]], "o"),
                                               shape("polygon", [[1, 1], [9, 1], [9, 5], [1, 5]],
                                                     "c")]))
    return root
