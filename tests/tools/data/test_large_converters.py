"""``python -m ocr_ds.tools.data.text{det,recog}.{textocr,cocotext,art,lsvt}_converter``: the
files of MMOCR 0.6.3's own converters (run in the reference venv) on hand-made miniature trees in
each data set's JSON format, byte for byte; and where MMOCR crashes or misreads."""
import json
import os

import pytest

import converter_trees as trees
from ocr_ds.errors import UserError
from ocr_ds.tools.data.textdet import art_converter as art_det
from ocr_ds.tools.data.textdet import cocotext_converter as coco_det
from ocr_ds.tools.data.textdet import lsvt_converter as lsvt_det
from ocr_ds.tools.data.textdet import textocr_converter as textocr_det
from ocr_ds.tools.data.textrecog import art_converter as art_rec
from ocr_ds.tools.data.textrecog import cocotext_converter as coco_rec
from ocr_ds.tools.data.textrecog import lsvt_converter as lsvt_rec
from ocr_ds.tools.data.textrecog import textocr_converter as textocr_rec

REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mmocr_converters.py")
LSVT, ART = "train_full_labels.json", "train_labels.json"

# (name, tree, converter, arguments after ROOT)
CASES = [
    ("textocr_det", trees.textocr, textocr_det, []),
    ("coco_det", trees.cocotext, coco_det, []),
    ("art_det", lambda r: trees.art_lsvt(r, ART), art_det, ["--val-ratio", "0.5"]),
    ("lsvt_det", lambda r: trees.art_lsvt(r, LSVT), lsvt_det, []),
    ("textocr_rec", trees.textocr, textocr_rec, ["1"]),
    ("coco_rec", trees.cocotext, coco_rec, []),
    ("coco_rec_txt", trees.cocotext, coco_rec, ["--preserve-vertical", "--format", "txt"]),
    ("art_rec", trees.art_task2, art_rec, ["--val-ratio", "0.3", "--format", "txt"]),
    ("art_rec_jsonl", trees.art_task2, art_rec, []),
    ("lsvt_rec", lambda r: trees.art_lsvt(r, LSVT), lsvt_rec, ["--val-ratio", "0.5"]),
    ("lsvt_rec_txt", lambda r: trees.art_lsvt(r, LSVT), lsvt_rec, ["--format", "txt"]),
]


def outputs(root):
    """Every file a converter wrote under ``root``."""
    found = {}
    for d, _, files in os.walk(root):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), root)
            if not rel.startswith(("imgs", "annotations", "train" + os.sep, "TextOCR")):
                found[rel] = open(os.path.join(d, f), "rb").read()
    return found


def unlabel_ignored(files):
    """MMOCR labels the crops it moves to ``ignores/train`` (as ``train/NAME``, a file that is
    not there); those lines are left out here."""
    ignored = {f"train/{os.path.basename(f)}" for f in files if f.startswith("ignores")}
    for name in [f for f in files if f.startswith("train_label.")]:
        files[name] = b"".join(line for line in files[name].splitlines(True)
                               if not any(i.encode() in line for i in ignored))
    return files


def test_converters_write_mmocrs_files(tmp_path, mmocr_ref):
    runs = []
    for name, make, conv, args in CASES:
        ref_root, our_root = make(tmp_path / "ref" / name), make(tmp_path / "ours" / name)
        kind = conv.__name__.split(".")[-2]
        runs.append((f"{kind}/{conv.__name__.rsplit('.', 1)[1]}.py", [str(ref_root)] + args))
        nproc = ["--nproc", "2"] if name in ("coco_rec", "lsvt_rec") else []
        assert conv.main([str(our_root)] + args + nproc) == 0
    assert mmocr_ref.call(REF, "run_scripts", runs=runs) == [None] * len(runs)
    got = {}
    for name, *_ in CASES:
        ref_root, our_root = tmp_path / "ref" / name, tmp_path / "ours" / name
        theirs = {k: v.replace(str(ref_root).encode(), str(our_root).encode())
                  for k, v in outputs(ref_root).items()}
        mine = got[name] = outputs(our_root)
        if name in ("coco_rec", "lsvt_rec", "lsvt_rec_txt"):
            theirs = unlabel_ignored(theirs)
        assert sorted(mine) == sorted(theirs), name
        for f in theirs:
            assert mine[f] == theirs[f], f"{name}/{f}"
    # what the files hold (the miniatures cover what they are meant to)
    textocr = json.loads(got["textocr_det"]["instances_training.json"])
    assert [a["iscrowd"] for a in textocr["annotations"]] == [0, 1, 0, 0]
    assert textocr["annotations"][1]["bbox"] == [0, 4, 5, 5]
    coco = json.loads(got["coco_det"]["instances_training.json"])
    assert [im["file_name"] for im in coco["images"]] == ["COCO_1.jpg"]
    assert [a["iscrowd"] for a in coco["annotations"]] == [0, 1, 1, 0]
    assert coco["annotations"][3]["segmentation"] == [[30, 5, 34, 5, 34, 25, 30, 25]]
    assert sorted(got["art_det"]) == ["instances_training.json", "instances_val.json"]
    assert got["textocr_rec"]["val_label.txt"] == "image/img_2_0.jpg né\n".encode()
    assert got["coco_rec"]["train_label.jsonl"] == b'{"filename": "train/img_0_0.jpg", "text": ' \
        b'"New"}\n'
    assert "ignores/train/img_0_3.jpg" in got["coco_rec"]
    assert got["coco_rec_txt"]["train_label.txt"] == b"train/img_0_0.jpg New\n" \
        b"train/img_0_3.jpg tall\n"
    assert got["art_rec"]["val_label.txt"] == "crops/gt_0_0.jpg URDER\ncrops/gt_3_0.jpg ###\n" \
        .encode()
    assert "燎申" in got["art_rec_jsonl"]["train_label.jsonl"].decode()
    assert got["lsvt_rec_txt"]["train_label.txt"].decode().splitlines() == [
        "train/img_0_0.jpg 燎申", "train/img_0_1.jpg ###", "train/img_0_2.jpg curve",
        "train/img_1_1.jpg hid", "train/img_3_0.jpg val"]


@pytest.mark.parametrize("make, conv, args, edit, message", [
    (trees.textocr, textocr_det, [], lambda r: (r / "TextOCR_0.1_val.json").unlink(),
     "TextOCR_0.1_val.json: TextOCR annotation file not found"),
    (trees.textocr, textocr_rec, ["1"], lambda r: (r / "train" / "b1.jpg").unlink(),
     "b1.jpg: no such image file"),
    (trees.textocr, textocr_det, [], lambda r: trees.text(r / "TextOCR_0.1_val.json", "{"),
     "TextOCR_0.1_val.json: not a valid JSON file"),
    (trees.cocotext, coco_det, [], lambda r: trees._json(
        r / "annotations/cocotext.v2.json", dict(imgs={"1": dict(id=1, set="train")}, anns={},
                                                 imgToAnns={})),
     "cocotext.v2.json: imgToAnns: no '1' entry"),
    (trees.cocotext, coco_rec, [], lambda r: trees._json(
        r / "annotations/cocotext.v2.json", dict(imgs={"1": dict(id=1, set="train")},
                                                 anns={"5": dict(bbox=[1, 2])},
                                                 imgToAnns={"1": [5]})),
     r"anns\[5\]: 'bbox' must be 4 numbers"),
    (lambda r: trees.art_lsvt(r, ART), art_det, ["--val-ratio", "1"], None,
     "--val-ratio: expected a number from 0 up to"),
    (lambda r: trees.art_lsvt(r, LSVT), lsvt_det, [], lambda r: trees._json(
        r / "annotations" / LSVT, {"gt_0": [dict(points=[[1, 2], [3, 4]], illegibility=False)]}),
     "gt_0\\[0\\]: 'points' must hold 3 or more"),
    (lambda r: trees.art_lsvt(r, LSVT), lsvt_rec, [], lambda r: trees._json(
        r / "annotations" / LSVT, {"gt_0": [dict(points=[[1.5, 2], [3, 4], [5, 6]],
                                                 transcription="x", illegibility=False)]}),
     "'points' must be integers to crop by"),
    (trees.art_task2, art_rec, [], lambda r: trees._json(
        r / "annotations/train_task2_labels.json", {"gt_1_0": []}),
     "'gt_1_0' has no transcription"),
])
def test_bad_input_is_one_line_and_nothing_is_written(tmp_path, make, conv, args, edit, message):
    root = make(tmp_path / "r")
    if edit:
        edit(root)
    before = sorted(os.listdir(root))
    with pytest.raises(UserError, match=message):
        conv.main([str(root)] + args)
    assert sorted(os.listdir(root)) == before
