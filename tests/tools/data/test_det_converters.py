"""``python -m ocr_ds.tools.data.textdet.*_converter``: the same files as MMOCR 0.6.3's own
``tools/data/textdet`` converters (run in the reference venv), byte for byte, on hand-made
miniature ICDAR 2015 / 2017, CTW1500 and Total-Text (txt and mat) trees; and the inputs where
MMOCR crashes or silently misreads, which are one-line errors (exit 2) or read correctly here."""
import json
import os
import shutil
import subprocess
import sys

import pytest

import converter_trees as trees
from ocr_ds.errors import UserError
from ocr_ds.tools.data.textdet import (ctw1500_converter, icdar_converter, synthtext_converter,
                                       totaltext_converter)

REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mmocr_converters.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# (name, tree, converter, arguments after ROOT, writes into ROOT (no -o))
CASES = [
    ("ic15", trees.icdar2015, icdar_converter,
     ["-d", "icdar2015", "--split-list", "training", "test"], False),
    ("ic17", trees.icdar2017, icdar_converter,
     ["--dataset", "icdar2017", "--split-list", "training", "val"], False),
    ("ctw", trees.ctw1500, ctw1500_converter, ["--split-list", "training", "test"], False),
    ("tt_txt", trees.totaltext_txt, totaltext_converter, [], True),
    ("tt_mat", trees.totaltext_mat, totaltext_converter, ["--nproc", "2"], True),
]


def jsons(folder):
    return {f: (folder / f).read_bytes() for f in sorted(os.listdir(folder)) if f.endswith(".json")}


def lmdb_items(path):
    import lmdb

    env = lmdb.open(str(path), readonly=True, lock=False)
    try:
        with env.begin() as txn:
            return dict(txn.cursor())
    finally:
        env.close()


def test_converters_write_mmocrs_files_byte_for_byte(tmp_path, mmocr_ref):
    runs, ours = [], {}
    for name, make, conv, args, in_root in CASES:
        ref_root, our_root = make(tmp_path / "ref" / name), make(tmp_path / "ours" / name)
        ref_out, our_out = (ref_root, our_root) if in_root else (
            tmp_path / "ref" / f"{name}_out", tmp_path / "ours" / f"{name}_out")
        out_args = [] if in_root else ["-o"]
        script = f"textdet/{conv.__name__.rsplit('.', 1)[1]}.py"
        runs.append((script, [str(ref_root)] + out_args + ([str(ref_out)] if out_args else [])
                     + args))
        nproc = ["--nproc", "2"] if name == "ic15" else []
        assert conv.main([str(our_root)] + out_args + ([str(our_out)] if out_args else [])
                         + args + nproc) == 0
        ours[name] = (ref_out, our_out)
    # SynthText: gt.mat -> synthtext.lmdb (keys and values compared: lmdb's pages may differ)
    st_ref = trees.synthtext(tmp_path / "ref" / "st")
    st_ours = trees.synthtext(tmp_path / "ours" / "st")
    runs.append(("textdet/synthtext_converter.py", [str(st_ref)]))
    assert synthtext_converter.main([str(st_ours), "-o", str(tmp_path / "ours" / "st_out")]) == 0
    assert mmocr_ref.call(REF, "run_scripts", runs=runs) == [None] * len(runs)
    st = lmdb_items(tmp_path / "ours" / "st_out" / "synthtext.lmdb")
    assert st == lmdb_items(st_ref / "synthtext.lmdb")
    assert st[b"total_number"] == b"2" and json.loads(st[b"1"])["annotations"][0]["bbox"] == [
        1.0, 2.0, 8.0, 4.0]
    # ... which MMOCR's SynthText dataset config (TextDetDataset over an lmdb) reads
    from ocr_ds import registry
    ds = registry.build(registry.DATASETS, dict(
        type="TextDetDataset", ann_file=str(tmp_path / "ours" / "st_out" / "synthtext.lmdb"),
        img_prefix=str(st_ours / "imgs"), pipeline=[], test_mode=True, loader=dict(
            type="AnnFileLoader", repeat=1, file_format="lmdb", parser=dict(
                type="LineJsonParser", keys=["file_name", "height", "width", "annotations"]))),
        "data.train")
    assert [info["file_name"] for info in ds.data_infos] == ["8/ballet_1.jpg", "8/ballet_2.jpg"]
    for name, (ref_out, our_out) in ours.items():
        theirs, mine = jsons(ref_out), jsons(our_out)
        assert list(theirs) == list(mine) and len(mine) == 2, name
        for f in theirs:
            assert mine[f] == theirs[f], f"{name}/{f}"
    # what the files hold (the miniatures cover what they are meant to)
    ic15 = json.loads(jsons(ours["ic15"][1])["instances_training.json"])
    assert sorted(im["file_name"] for im in ic15["images"]) == [
        "training/img_1.jpg", "training/img_2.png", "training/img_3.JPG",
        "training/img_4.jpeg", "training/img_6.jpg"]
    assert sum(a["iscrowd"] for a in ic15["annotations"]) == 2
    assert "annotations" not in json.loads(jsons(ours["ic17"][1])["instances_val.json"])
    tt = json.loads(jsons(ours["tt_txt"][1])["instances_training.json"])
    assert [a["text"] for a in tt["annotations"]] == ["nauGHTY", "CURVE", "###", "###", "a,b",
                                                      "###", "TOTAL"]


def test_icdar_inputs_mmocr_crashes_on_are_read(tmp_path):
    """Blank lines, a BOM in an MLT file, float coordinates, a root with glob characters."""
    root = trees.icdar2017(tmp_path / "r[1]")
    trees.text(root / "annotations" / "training" / "gt_img_1.txt",
               trees.BOM + "1,2,10,2,10,8,1,8,Latin,Hi\n\n1.5,2,10,2,10,8,1,8,Latin,###\n"
               "2,2,6,2,6,6,2,6,Latin\n")
    icdar_converter.main([str(root), "-d", "icdar2017", "--split-list", "training"])
    coco = json.loads((root / "instances_training.json").read_text())
    anns = [a for a in coco["annotations"]
            if coco["images"][a["image_id"]]["file_name"] == "training/img_1.jpg"]
    assert [a["segmentation"][0][0] for a in anns] == [1, 1.5, 2]
    assert [a["iscrowd"] for a in anns] == [0, 1, 0]


def test_ctw1500_keeps_commas_in_test_texts(tmp_path):
    """MMOCR cuts a test transcription at its first comma ('1,000' -> '1'); kept whole here."""
    root = trees.ctw1500(tmp_path / "r")
    gt = root / "annotations" / "test" / "0001001.txt"
    gt.write_text(gt.read_text().replace("####SALE", "####1,000"))
    ctw1500_converter.main([str(root), "--split-list", "test"])
    coco = json.loads((root / "instances_test.json").read_text())
    assert [a["text"] for a in coco["annotations"]] == ["1,000", ""]


@pytest.mark.parametrize("case, change, message", [
    ("missing-gt", lambda r: (r / "annotations/test/gt_img_1.txt").unlink(),
     "gt_img_1.txt: missing annotation file of image"),
    ("no-split", lambda r: shutil.rmtree(r / "imgs" / "test"),
     "imgs/test: image directory of split 'test' not found"),
    ("bad-line", lambda r: trees.text(r / "annotations/test/gt_img_1.txt", "1,2,3,x,5,6,7,8,a"),
     "gt_img_1.txt:1: expected 8 numeric coordinates"),
    ("short-line", lambda r: trees.text(r / "annotations/test/gt_img_1.txt", "1,2,3"),
     "gt_img_1.txt:1: expected x1,y1,...,x4,y4,transcription"),
    ("bad-image", lambda r: trees.text(r / "imgs/test/img_1.jpg", "not a jpeg"),
     "img_1.jpg: not a readable image"),
])
def test_icdar_bad_input_is_one_line_and_nothing_is_written(tmp_path, case, change, message):
    root = trees.icdar2015(tmp_path / "r")
    change(root)
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        icdar_converter.main([str(root), "-d", "icdar2015", "--split-list", "training", "test"])
    assert not [f for f in os.listdir(root) if f not in ("imgs", "annotations")]


@pytest.mark.parametrize("tree, edit, message", [
    (trees.totaltext_txt, lambda r: (r / "annotations/training/poly_gt_img2.txt").rename(
        r / "annotations/training/poly_gt_img3.txt"),
     "poly_gt_img3.txt: does not belong to image"),
    (trees.totaltext_txt, lambda r: trees.text(r / "annotations/test/extra.txt", ""),
     "2 annotation files for the 1 images"),
    (trees.totaltext_txt, lambda r: trees.text(r / "annotations/test/poly_gt_img5.txt",
                                               "x: [[0 6 6]], y: [[0 0]], transcriptions: []"),
     "poly_gt_img5.txt:1: x and y must be equally long"),
    (trees.totaltext_txt, lambda r: trees.text(r / "annotations/test/poly_gt_img5.txt",
                                               "x: [[0 6 6]], y: [[0 0 4]], transcriptions: [x]"),
     "poly_gt_img5.txt:1: transcription 'x' is not a quoted string"),
    (trees.totaltext_mat, lambda r: trees.text(r / "annotations/test/gt_img3.mat", "no mat"),
     "gt_img3.mat: not a readable .mat file"),
    (trees.ctw1500, lambda r: trees.text(r / "annotations/test/0001001.txt", "1,2,3,4,####A\n"),
     "0001001.txt:1: expected x1,y1,...,x14,y14,####TEXT"),
    (trees.ctw1500, lambda r: trees.text(r / "annotations/training/0002.xml", "<Annotations>"),
     "0002.xml: not a valid XML file"),
])
def test_totaltext_ctw1500_bad_input(tmp_path, tree, edit, message):
    root = tree(tmp_path / "r")
    edit(root)
    conv = totaltext_converter if tree is not trees.ctw1500 else ctw1500_converter
    args = [] if conv is totaltext_converter else ["--split-list", "training", "test"]
    with pytest.raises(UserError, match=message):
        conv.main([str(root)] + args)
    assert not [f for f in os.listdir(root) if f.endswith(".json")]


@pytest.mark.parametrize("edit, message", [
    (lambda r: (r / "gt.mat").unlink(), "gt.mat: SynthText's gt.mat not found"),
    (lambda r: (r / "imgs" / "8" / "ballet_2.jpg").unlink(), "ballet_2.jpg: no such image file"),
    (lambda r: trees.text(r / "gt.mat", "not a mat"), "gt.mat: not a readable .mat file"),
])
def test_synthtext_bad_input_leaves_no_lmdb(tmp_path, edit, message):
    root = trees.synthtext(tmp_path / "r")
    edit(root)
    with pytest.raises(UserError, match=message):
        synthtext_converter.main([str(root)])
    assert not [f for f in os.listdir(root) if "lmdb" in f]


def test_cli_exit_2_one_line(tmp_path):
    root = trees.icdar2015(tmp_path / "r")
    proc = subprocess.run(
        [sys.executable, "-m", "ocr_ds.tools.data.textdet.icdar_converter", str(root),
         "--split-list", "training", "-d", "icdar2019"], capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=REPO), cwd=REPO, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "argument -d/--dataset: invalid choice" in proc.stderr
