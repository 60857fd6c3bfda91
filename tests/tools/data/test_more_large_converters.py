"""``python -m ocr_ds.tools.data.text{det,recog}.{rctw,hiertext,rects,mtwi}_converter``: the files
of MMOCR 0.6.3's own converters (run in the reference venv) on hand-made miniature trees in each
data set's native format, byte for byte (every file of the tree, the input images MTWI's
converter rewrites too); and where MMOCR crashes or misreads.

RCTW, ReCTS and MTWI pair files in ``os.listdir`` order (the file system's): both trees are made
the same way on the same file system, and the test checks first that they list alike."""
import json
import os

import pytest

import listed_converter_trees as trees
from ocr_ds.errors import UserError
from ocr_ds.tools.data.textdet import hiertext_converter as hier_det
from ocr_ds.tools.data.textdet import mtwi_converter as mtwi_det
from ocr_ds.tools.data.textdet import rctw_converter as rctw_det
from ocr_ds.tools.data.textdet import rects_converter as rects_det
from ocr_ds.tools.data.textrecog import hiertext_converter as hier_rec
from ocr_ds.tools.data.textrecog import mtwi_converter as mtwi_rec
from ocr_ds.tools.data.textrecog import rctw_converter as rctw_rec
from ocr_ds.tools.data.textrecog import rects_converter as rects_rec

REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mmocr_converters.py")


def words_as_lines(root):
    return trees.hiertext(root, words_as_lines=True)


# (name, tree, converter, arguments after ROOT, MMOCR's tree and arguments where they differ)
CASES = [
    ("rctw_det", trees.rctw, rctw_det, ["--val-ratio", "0.5"], None),
    ("rctw_rec", trees.rctw, rctw_rec, ["--val-ratio", "0.5"], None),
    ("rctw_rec_txt", trees.rctw, rctw_rec, ["--format", "txt", "--preserve-vertical"], None),
    ("hier_det_line", trees.hiertext, hier_det, ["--level", "line"], None),
    ("hier_det_para", trees.hiertext, hier_det, ["--level", "paragraph"], None),
    # MMOCR's word level repeats the line's polygon per word: its line level of the words
    ("hier_det_word", trees.hiertext, hier_det, [], (words_as_lines, ["--level", "line"])),
    ("hier_rec", trees.hiertext, hier_rec, [], None),
    ("hier_rec_line", trees.hiertext, hier_rec, ["--level", "line", "--format", "txt",
                                                 "--preserve-vertical"], None),
    ("rects_det", trees.rects, rects_det, ["--val-ratio", "0.5"], None),
    ("rects_rec", trees.rects, rects_rec, ["--format", "txt"], None),
    ("rects_rec_val", trees.rects, rects_rec, ["--val-ratio", "0.4"], None),
    ("mtwi_det", trees.mtwi, mtwi_det, ["--val-ratio", "0.5"], None),
    ("mtwi_rec", trees.mtwi, mtwi_rec, ["--format", "txt"], None),
]


def files_under(root):
    found = {}
    for d, _, files in os.walk(root):
        for f in files:
            found[os.path.relpath(os.path.join(d, f), root)] = open(os.path.join(d, f), "rb").read()
    return found


def as_ours(name, files):
    """MMOCR's files as ocr_ds writes them where it deliberately differs: tall crops moved to
    ``ignores/<split>`` are not labelled; RCTW's labels name the crop's real place."""
    labels = {"training": "train_label.", "train": "train_label.", "val": "val_label."}
    for path in [p for p in files if p.startswith("ignores")]:
        _, split, crop = path.split(os.sep)
        for label in [f for f in files if f.startswith(labels[split])]:
            tag = (split if not name.startswith("rctw") else "crops") + "/" + crop
            files[label] = b"".join(line for line in files[label].splitlines(True)
                                    if tag.encode() not in line)
    if name.startswith("rctw"):
        for label in [f for f in files if f.endswith(("_label.txt", "_label.jsonl"))]:
            split = "training" if label.startswith("train") else "val"
            files[label] = files[label].replace(b"crops/", f"{split}/".encode())
    return files


def test_converters_write_mmocrs_files(tmp_path, mmocr_ref):
    runs = []
    for name, make, conv, args, ref in CASES:
        ref_make, ref_args = ref or (make, args)
        ref_root, our_root = ref_make(tmp_path / "ref" / name), make(tmp_path / "ours" / name)
        if (our_root / "annotations").is_dir() and name[:4] in ("rctw", "rect", "mtwi"):
            assert os.listdir(ref_root / "annotations") == os.listdir(our_root / "annotations")
        kind = conv.__name__.split(".")[-2]
        runs.append((f"{kind}/{conv.__name__.rsplit('.', 1)[1]}.py", [str(ref_root)] + ref_args))
        nproc = ["--nproc", "2"] if name in ("rctw_rec", "hier_rec", "mtwi_det") else []
        assert conv.main([str(our_root)] + args + nproc) == 0
    # MMOCR's own word level, for the record: the line's polygon once per word
    runs.append(("textdet/hiertext_converter.py", [str(trees.hiertext(tmp_path / "word"))]))
    assert mmocr_ref.call(REF, "run_scripts", runs=runs) == [None] * len(runs)
    bug = json.loads((tmp_path / "word" / "instances_val.json").read_bytes())
    assert [a["segmentation"] for a in bug["annotations"]] == [[[4, 4, 16, 4, 16, 10, 4, 10]]] * 2
    got = {}
    for name, _, _, _, ref in CASES:
        ref_root, our_root = tmp_path / "ref" / name, tmp_path / "ours" / name
        theirs = as_ours(name, {k: v.replace(str(ref_root).encode(), str(our_root).encode())
                                for k, v in files_under(ref_root).items()})
        mine = got[name] = files_under(our_root)
        if ref:
            theirs = {k: v for k, v in theirs.items() if not k.startswith("annotations")}
            mine = {k: v for k, v in mine.items() if not k.startswith("annotations")}
        assert sorted(mine) == sorted(theirs), name
        for f in theirs:
            assert mine[f] == theirs[f], f"{name}/{f}"
    # what the files hold (the miniatures cover what they are meant to)
    rctw = [json.loads(got["rctw_det"][f"instances_{s}.json"]) for s in ("training", "val")]
    crowd = {im["file_name"]: [a["iscrowd"] for a in c.get("annotations", [])
                               if a["image_id"] == im["id"]] for c in rctw for im in c["images"]}
    assert crowd == {"image_0.jpg": [0, 1, 1, 0, 0, 0, 0], "image_1.jpg": [0], "image_2.jpg": []}
    txt = got["rctw_rec_txt"]["train_label.txt"].decode().splitlines()
    assert "training/image_0_1.png 金氏眼镜" in txt and "training/image_0_3.png tall" in txt
    assert "training/image_1_1.png 城建店" in txt and len(txt) == 5     # out: empty, left out
    word = json.loads(got["hier_det_word"]["instances_training.json"])
    assert len(word["annotations"]) == 6 and word["annotations"][1]["bbox"][0] == 15.2
    rec = got["hier_rec"]["train_label.jsonl"].decode().splitlines()
    assert json.loads(rec[0]) == {"filename": "train/img_0_0_0.jpg", "text": "Hello"}
    assert "w\\u00f6rld" in rec[1] and "ignores/train/img_0_1_0.jpg" in got["hier_rec"]
    assert got["hier_rec_line"]["val_label.txt"].decode() == "val/img_0_0_0.jpg né\n" \
        "val/img_0_0_1.jpg up\n"
    rects = got["rects_rec"]["train_label.txt"].decode().splitlines()
    assert "training/train_ReCTS_001_2.png 茶" in rects and "ignores/training/" \
        "train_ReCTS_001_4.png" in got["rects_rec"]
    mtwi = [json.loads(got["mtwi_det"][f"instances_{s}.json"]) for s in ("training", "val")]
    assert "TB1c.jpg" not in json.dumps(mtwi)
    assert got["mtwi_rec"]["imgs/TB1b.jpg"][:3] == b"\xff\xd8\xff"     # re-saved as a JPEG
    assert "training/TB1a_2.png 73/74" in got["mtwi_rec"]["train_label.txt"].decode()
    assert "ignores/training/TB1a_3.png" in got["mtwi_rec"]


def test_right_readings(tmp_path):
    """Where MMOCR misreads: commas in a transcription (RCTW, MTWI), blank lines, dots in a
    name (MMOCR's crops of ``TB1.a`` and ``TB1.b`` are both ``TB1_<k>.png``)."""
    root = tmp_path / "m"
    trees.image(root / "imgs" / "TB1.a.jpg", 20, 24)
    trees.image(root / "imgs" / "TB1.b.jpg", 20, 24)
    trees.text(root / "annotations" / "TB1.a.txt", "1,1,12,1,12,6,1,6,a,b\n\n")
    trees.text(root / "annotations" / "TB1.b.txt", "2,2,14,2,14,8,2,8,c\n")
    assert mtwi_rec.main([str(root), "--format", "txt"]) == 0
    assert sorted((root / "train_label.txt").read_text().splitlines()) == [
        "training/TB1.a_1.png a,b", "training/TB1.b_1.png c"]
    root = tmp_path / "r"
    trees.image(root / "imgs" / "image_9.jpg", 20, 24)
    trees.text(root / "annotations" / "image_9.txt", '1,1,12,1,12,6,1,6,0,"1,000"\n')
    assert rctw_rec.main([str(root), "--format", "txt"]) == 0
    assert (root / "train_label.txt").read_text() == "training/image_9_1.png 1,000\n"


@pytest.mark.parametrize("make, conv, args, edit, message", [
    (trees.rctw, rctw_det, [], lambda r: (r / "imgs" / "image_1.jpg").unlink(),
     "image_1.jpg: no such image file"),
    (trees.rctw, rctw_rec, [], lambda r: trees.text(r / "annotations" / "image_2.txt",
                                                    '1,2,3,4,5,6,7,8.5,0,"x"\n'),
     "image_2.txt:1: expected 8 integer coordinates"),
    (trees.rctw, rctw_det, [], lambda r: trees.text(r / "annotations" / "notes.md", ""),
     "notes.md: not a .txt annotation file"),
    (trees.hiertext, hier_det, [], lambda r: (r / "annotations" / "val.jsonl").unlink(),
     "val.jsonl: HierText annotation file not found"),
    (trees.hiertext, hier_rec, [], lambda r: trees._json(r / "annotations" / "val.jsonl", dict(
        annotations=[dict(image_id="v1", paragraphs=[dict(lines=[dict(words=[dict(
            vertices=[[1, 2], [3, 4]], text="x", legible=True)])])])])),
     r"paragraphs\[0\].lines\[0\].words\[0\]: 'vertices' must hold 3 or more"),
    (trees.rects, rects_rec, [], lambda r: trees._json(
        r / "annotations" / "train_ReCTS_002.json", dict(lines=[dict(
            points=[1, 2, 3, 4, 5, 6], ignore=0, transcription="x")])),
     "a region to crop must have 4 corners"),
    (trees.rects, rects_det, ["--val-ratio", "1"], None, "--val-ratio: expected a number"),
    (trees.mtwi, mtwi_det, [], lambda r: trees.text(r / "annotations" / "TB1a.txt", "1,2\n"),
     "TB1a.txt:1: expected x1,y1,...,x4,y4,text"),
    (trees.mtwi, mtwi_rec, [], lambda r: trees.text(r / "imgs" / "TB1b.jpg", b"not an image"),
     "TB1b.jpg: not a readable image"),
])
def test_bad_input_is_one_line_and_nothing_is_written(tmp_path, make, conv, args, edit, message):
    root = make(tmp_path / "r")
    if edit:
        edit(root)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    with pytest.raises(UserError, match=message):
        conv.main([str(root)] + args)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
