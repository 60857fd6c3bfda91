"""``python -m ocr_ds.tools.data.{textdet,textrecog,common,kie}.*`` for IC11, IC13, SVT, FUNSD,
SROIE, NAF, VinText, BID, DeText, ILST, IMGUR5K, KAIST, LV and the other data tools: the same
files as MMOCR 0.6.3's own scripts (all run in the reference venv in one call), byte for byte,
on hand-made miniature inputs (more_converter_trees.py, more_tool_trees.py). The inputs where
MMOCR crashes or misreads are in test_more_converters_input.py."""
import json
import os

import more_converter_trees as trees
import more_tool_trees as tool_trees
from more_converter_trees import tree_files
from ocr_ds.tools.data.common import curvedsyntext_converter, extract_kaist, labelme_converter
from ocr_ds.tools.data.kie import closeset_to_openset
from ocr_ds.tools.data.textdet import bid_converter as det_bid
from ocr_ds.tools.data.textdet import detext_converter as det_detext
from ocr_ds.tools.data.textdet import funsd_converter as det_funsd
from ocr_ds.tools.data.textdet import ic11_converter as det_ic11
from ocr_ds.tools.data.textdet import ic13_converter as det_ic13
from ocr_ds.tools.data.textdet import ilst_converter as det_ilst
from ocr_ds.tools.data.textdet import imgur_converter as det_imgur
from ocr_ds.tools.data.textdet import kaist_converter as det_kaist
from ocr_ds.tools.data.textdet import lv_converter as det_lv
from ocr_ds.tools.data.textdet import naf_converter as det_naf
from ocr_ds.tools.data.textdet import sroie_converter as det_sroie
from ocr_ds.tools.data.textdet import vintext_converter as det_vintext
from ocr_ds.tools.data.textrecog import bid_converter as rec_bid
from ocr_ds.tools.data.textrecog import detext_converter as rec_detext
from ocr_ds.tools.data.textrecog import funsd_converter as rec_funsd
from ocr_ds.tools.data.textrecog import ic11_converter as rec_ic11
from ocr_ds.tools.data.textrecog import ic13_converter as rec_ic13
from ocr_ds.tools.data.textrecog import ilst_converter as rec_ilst
from ocr_ds.tools.data.textrecog import imgur_converter as rec_imgur
from ocr_ds.tools.data.textrecog import kaist_converter as rec_kaist
from ocr_ds.tools.data.textrecog import lv_converter as rec_lv
from ocr_ds.tools.data.textrecog import naf_converter as rec_naf
from ocr_ds.tools.data.textrecog import openvino_converter
from ocr_ds.tools.data.textrecog import seg_synthtext_converter
from ocr_ds.tools.data.textrecog import sroie_converter as rec_sroie
from ocr_ds.tools.data.textrecog import svt_converter
from ocr_ds.tools.data.textrecog import vintext_converter as rec_vintext

REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mmocr_converters.py")

# (name, tree, our converter, MMOCR's script, arguments after ROOT (ours add nproc where given))
CASES = [
    ("ic13_det", trees.ic13, det_ic13, "textdet/ic13_converter.py", [], ["--nproc", "2"]),
    ("ic11_det", trees.ic11, det_ic11, "textdet/ic11_converter.py", [], []),
    ("ic13_rec", trees.ic13_recog, rec_ic13, "textrecog/ic13_converter.py", [], []),
    ("ic13_rec_txt", trees.ic13_recog, rec_ic13, "textrecog/ic13_converter.py",
     ["--format", "txt"], []),
    ("ic11_rec", lambda r: trees.ic13_recog(r, "1"), rec_ic11, "textrecog/ic11_converter.py",
     ["--format", "txt"], []),
    ("svt", trees.svt, svt_converter, "textrecog/svt_converter.py", [], []),
    ("svt_resize", trees.svt, svt_converter, "textrecog/svt_converter.py", ["--resize"], []),
    ("funsd_det", trees.funsd, det_funsd, "textdet/funsd_converter.py", [], []),
    ("funsd_rec", trees.funsd, rec_funsd, "textrecog/funsd_converter.py", [], ["--nproc", "2"]),
    ("funsd_rec_v", trees.funsd, rec_funsd, "textrecog/funsd_converter.py",
     ["--preserve_vertical", "--format", "txt"], []),
    ("sroie_det", trees.sroie, det_sroie, "textdet/sroie_converter.py", [], ["--nproc", "2"]),
    ("sroie_rec", lambda r: trees.sroie(r, recog=True), rec_sroie, "textrecog/sroie_converter.py",
     ["--format", "txt"], []),
    ("naf_det", trees.naf, det_naf, "textdet/naf_converter.py", [], []),
    ("naf_rec", trees.naf, rec_naf, "textrecog/naf_converter.py", ["--format", "txt"],
     ["--nproc", "2"]),
    ("naf_rec_v", trees.naf, rec_naf, "textrecog/naf_converter.py", ["--preserve-vertical"], []),
    ("vintext_det", trees.vintext, det_vintext, "textdet/vintext_converter.py", [], []),
    ("vintext_rec", trees.vintext, rec_vintext, "textrecog/vintext_converter.py", [],
     ["--nproc", "2"]),
    ("bid_det", trees.bid, det_bid, "textdet/bid_converter.py", [], []),
    ("bid_det_val", trees.bid, det_bid, "textdet/bid_converter.py", ["--val-ratio", "0.5"], []),
    ("bid_rec", trees.bid, rec_bid, "textrecog/bid_converter.py", [], []),
    ("bid_rec_val", trees.bid, rec_bid, "textrecog/bid_converter.py",
     ["--val-ratio", "0.4", "--format", "txt", "--preserve-vertical"], ["--nproc", "2"]),
    ("detext_det", trees.detext, det_detext, "textdet/detext_converter.py", [], []),
    ("detext_rec", trees.detext, rec_detext, "textrecog/detext_converter.py", ["--format", "txt"],
     []),
    ("ilst_det", trees.ilst, det_ilst, "textdet/ilst_converter.py", ["--val-ratio", "0.5"], []),
    ("ilst_rec", trees.ilst, rec_ilst, "textrecog/ilst_converter.py", [], ["--nproc", "2"]),
    ("imgur_det", trees.imgur, det_imgur, "textdet/imgur_converter.py", [], []),
    ("imgur_rec", trees.imgur, rec_imgur, "textrecog/imgur_converter.py", ["--format", "txt"], []),
    ("kaist_det", trees.kaist, det_kaist, "textdet/kaist_converter.py", ["--val-ratio", "0.5"],
     ["--nproc", "2"]),
    ("kaist_rec", trees.kaist, rec_kaist, "textrecog/kaist_converter.py", [], []),
    ("kaist_rec_val", trees.kaist, rec_kaist, "textrecog/kaist_converter.py",
     ["--val-ratio", "0.5", "--format", "txt"], []),
    ("kaist_zips", trees.kaist_zips, extract_kaist, "common/extract_kaist.py", [], []),
    ("lv_det", trees.lv, det_lv, "textdet/lv_converter.py", [], []),
    ("lv_rec", trees.lv, rec_lv, "textrecog/lv_converter.py", [], []),
    ("lv_rec_txt", trees.lv, rec_lv, "textrecog/lv_converter.py", ["--format", "txt"], []),
    ("curvedsyntext", tool_trees.curvedsyntext, curvedsyntext_converter,
     "common/curvedsyntext_converter.py", [], ["--nproc", "2"]),
    ("curvedsyntext_n", tool_trees.curvedsyntext, curvedsyntext_converter,
     "common/curvedsyntext_converter.py", ["-n", "7"], []),
    ("openvino", tool_trees.openvino, openvino_converter, "textrecog/openvino_converter.py", ["2"], []),
]
# MMOCR also labels the tall crops it puts into ignores/<split> (Differs: not here):
# {case: {label file: its crops in ignores/}}
IGNORED = {"naf_rec": {"train_label.txt": {"training/a_5.png"}},
           "vintext_rec": {"train_label.jsonl": {"training/im0001_4.png"}},
           "bid_rec": {"training_label.jsonl": {"training/00000001_in_4.png"}},
           "detext_rec": {"train_label.txt": {"training/a1_4.png"}},
           "ilst_rec": {"training_label.jsonl": {"training/i1_3.png"}},
           "kaist_rec": {"train_label.jsonl": {"training/00000_3.png", "training/00003_2.png"}},
           "kaist_rec_val": {"train_label.txt": {"training/00003_2.png"},
                             "val_label.txt": {"val/00000_3.png"}}}


def test_converters_write_mmocrs_files_byte_for_byte(tmp_path, mmocr_ref):
    runs = []
    for name, make, conv, script, args, ours in CASES:
        runs.append((script, [str(make(tmp_path / "ref" / name))] + args))
        assert conv.main([str(make(tmp_path / "ours" / name))] + args + ours) == 0
    # tools whose arguments are paths of their own (no ROOT)
    for case, extra in (("lm_det", ["--tasks", "det"]),
                        ("lm_rec", ["--tasks", "det", "recog", "--format", "txt"]),
                        ("lm_rec_jsonl", ["--tasks", "recog", "det", "--nproc", "2"])):
        for side in ("ref", "ours"):
            root = tool_trees.labelme(tmp_path / side / case)
            argv = [str(root / "json"), str(root / "imgs"), str(root / "out")] + extra
            if side == "ref":
                runs.append(("common/labelme_converter.py", argv))
            else:
                assert labelme_converter.main(argv) == 0
    for side in ("ref", "ours"):
        root = tool_trees.seg_synthtext(tmp_path / side / "seg")
        argv = ["--data-root", str(root), "--in-path", str(root / "mapping.txt"), "--out-path",
                str(root / "out" / "instances.txt")]
        if side == "ref":
            runs.append(("textrecog/seg_synthtext_converter.py", argv))
        else:
            assert seg_synthtext_converter.main(argv) == 0
    for merge in ([], ["--merge"]):
        files = {side: tool_trees.wildreceipt_closeset(tmp_path / side / "kie")
                 for side in ("ref", "ours")}
        out = f"openset{len(merge)}.txt"
        runs.append(("kie/closeset_to_openset.py", [str(files["ref"] / "closeset.txt"),
                                                    str(files["ref"] / out), "--n_proc", "2"]
                     + merge))
        assert closeset_to_openset.main([str(files["ours"] / "closeset.txt"),
                                         str(files["ours"] / out), "--n_proc", "2"] + merge) == 0
    assert mmocr_ref.call(REF, "run_scripts", runs=runs) == [None] * len(runs)
    assert tree_files(tmp_path / "ours" / "kie") == tree_files(tmp_path / "ref" / "kie")
    assert tree_files(tmp_path / "ours" / "seg") == tree_files(tmp_path / "ref" / "seg")
    for case in ("lm_det", "lm_rec", "lm_rec_jsonl"):  # labels name the crops by OUT_DIR/...
        theirs = {rel: data.replace(str(tmp_path / "ref").encode(), str(tmp_path / "ours").encode())
                  for rel, data in tree_files(tmp_path / "ref" / case).items()}
        assert tree_files(tmp_path / "ours" / case) == theirs, case
    lm = (tmp_path / "ours" / "lm_rec" / "out" / "train_label.txt").read_text().splitlines()
    assert [line.rsplit("/", 2)[1:] for line in lm] == [
        ["a", "crop_0.jpg Hello"], ["a", "crop_1.jpg Größe"], ["a", "crop_2.jpg curve"],
        ["a", "crop_3.jpg last"], ["b", "crop_0.jpg b"]]
    assert json.loads((tmp_path / "ours" / "seg" / "out" / "instances.txt").read_text(
        ).splitlines()[0])["annotations"][1] == dict(char_box=[2.5, 3, 4, 5, 6, 7, 8, 9],
                                                      char_text="é")
    for name, *_ in CASES:
        theirs, mine = tree_files(tmp_path / "ref" / name), tree_files(tmp_path / "ours" / name)
        assert sorted(mine) == sorted(theirs), name
        ref_ignored = {os.path.relpath(os.path.join(d, f), tmp_path / "ref" / name / "ignores")
                       for d, _, fs in os.walk(tmp_path / "ref" / name / "ignores") for f in fs}
        assert ref_ignored == set().union(*IGNORED.get(name, {}).values()), name
        for label, ignored in IGNORED.get(name, {}).items():
            theirs[label] = b"".join(line for line in theirs[label].splitlines(True)
                                     if not any(f'{f} '.encode() in line or f'"{f}"'.encode()
                                                in line for f in ignored))
        if name == "lv_det":  # MMOCR's file_name is the bare name (Differs: the path)
            for rel in [r for r in theirs if r.startswith("instances_")]:
                coco = json.loads(mine[rel])
                for im in coco["images"]:
                    im["file_name"] = os.path.basename(im["file_name"])
                    im["segm_file"] = os.path.basename(im["segm_file"])
                mine[rel] = json.dumps(coco).encode()
        for rel in theirs:
            assert mine[rel] == theirs[rel], f"{name}/{rel}"
    # what the files hold (the miniatures cover what they are meant to)
    ours = tmp_path / "ours"
    ic11 = json.loads((ours / "ic11_det" / "instances_training.json").read_text())
    assert [im["file_name"] for im in ic11["images"]] == [
        "img_1.jpg", "img_10.png", "img_2.v2.jpg", "img_3.png"]
    assert not (ours / "ic11_det" / "imgs" / "training" / "img_3.gif").exists()
    assert (ours / "ic13_rec_txt" / "train_label.txt").read_text() == (
        'train/word_1.png flying\ntrain/word_2.png a, b\ntrain/word_3.png Café\n'
        'train/word_4.png "\n')
    assert (ours / "svt" / "test_label.txt").read_text() == (
        "image/img_0001.jpg hotel 3 hotel,park,inn\nimage/img_0002.jpg park 3 hotel,park,inn\n"
        "image/img_0003.jpg edge 3 hotel,park,inn\nimage/img_0004.jpg one 1 one\n")
    funsd = json.loads((ours / "funsd_det" / "instances_training.json").read_text())
    assert [a["iscrowd"] for a in funsd["annotations"]] == [0, 0, 1, 0, 0, 0, 0]
    labels = [json.loads(line)["text"] for line in
              (ours / "funsd_rec" / "train_label.jsonl").read_text().splitlines()]
    assert labels == ["Name", "rev", "Dé", "neg"]            # no '', no 'tall', no 'out'
    assert (ours / "naf_rec" / "train_label.txt").read_text() == (
        "training/a_1.png July 1\ntraining/a_3.png Smith\n")
    assert (ours / "naf_rec" / "val_label.txt").read_text() == "val/c_1.png Vert\n"
    vin = [json.loads(line) for line in
           (ours / "vintext_rec" / "train_label.jsonl").read_text().splitlines()]
    assert [(v["filename"], v["text"]) for v in vin if v["filename"].startswith(
        "training/im0001")] == [("training/im0001_1.png", "LƯỢNG"),
                                ("training/im0001_3.png", "LÀM,"), ("training/im0001_5.png", ""),
                                ("training/im0001_6.png", "TỐT")]
    bid = [json.loads(line) for line in
           (ours / "bid_rec" / "training_label.jsonl").read_text().splitlines()]
    assert [v["text"] for v in bid if v["filename"].startswith("training/00000001")] == [
        "NOME", "SILVA, JOSÉ", ""]
    assert (ours / "detext_rec" / "train_label.txt").read_text() == (
        "training/a1_1.png CT\ntraining/a1_5.png MRI\n")
    assert (ours / "detext_rec" / "val_label.txt").read_text() == (
        "val/v1_1.png v\nval/v1_2.png up\n")
    ilst = [json.loads(line)["text"] for line in
            (ours / "ilst_rec" / "training_label.jsonl").read_text().splitlines()]
    assert sorted(ilst) == ["SMT", "ab", "नमस्ते"]
    assert (ours / "imgur_rec" / "train_label.txt").read_text() == (
        "train/i1_1.png hello\ntrain/i1_2.png café\ntrain/i1_3.png up\ntrain/i1_4.png edge\n"
        "train/i2_1.png .\n")
    assert (ours / "imgur_rec" / "test_label.txt").read_text() == ""
    assert sorted(os.listdir(ours / "kaist_zips")) == ["annotations", "imgs"]
    assert sorted(os.listdir(ours / "kaist_zips" / "imgs")) == ["00000.jpg", "00001.jpg",
                                                                "00002.jpg"]
    kaist = [json.loads(line)["text"] for line in
             (ours / "kaist_rec" / "train_label.jsonl").read_text().splitlines()]
    assert kaist == ["CLAV", "한글", "AB", "가"]
    lv = json.loads((ours / "lv_det" / "instances_train.json").read_text())
    assert sorted(im["file_name"] for im in lv["images"]) == ["11/1/1.png", "11/2/1.png"]
    assert (ours / "lv_rec" / "train_label.jsonl").read_text() == (
        '{"filename": "Crops/train/11/1/1.png", "text": "weighted"}\n'
        '{"filename": "Crops/train/11/1/2.png", "text": "26 x"}\n')
    cst = json.loads((ours / "curvedsyntext" / "instances_training.json").read_text())
    assert [a["text"] for a in cst["annotations"]] == ["Hello!", "a b", "?!", "Zz~"]
    assert [(im["id"], im["file_name"]) for im in cst["images"]][2:] == [
        (6, "emcs_imgs/emcs_1.jpg"), (7, "emcs_imgs/emcs_2.jpg")]
    assert len(cst["annotations"][0]["segmentation"][0]) == 16
    assert (ours / "openvino" / "train_1_label.txt").read_text() == (
        "image_1/img_0_0.jpg Hello\nimage_1/img_0_2.jpg edge\nimage_1/img_0_4.jpg z\n"
        "image_1/img_1_0.jpg grey\n")
    assert (ours / "openvino" / "val_label.txt").read_text() == "image_val/img_2_0.jpg v\n"
    naf = json.loads((ours / "naf_det" / "instances_training.json").read_text())
    assert [im["file_name"] for im in naf["images"]] == ["a.jpg", "b.jpg"]
    assert len(naf["annotations"]) == 12
    sroie = json.loads((ours / "sroie_det" / "instances_training.json").read_text())
    assert [im["file_name"] for im in sroie["images"]] == ["X1.jpg", "X2.jpg"]
    assert len(sroie["annotations"]) == 8
    assert (ours / "sroie_rec" / "train_label.txt").read_text() == (
        "training/X1_1.png RECEIPT\ntraining/X1_2.png Tel:\ntraining/X1_3.png edge\n"
        "training/X2_1.png a\n")
    assert "0001_3.png tall" in (ours / "funsd_rec_v" / "train_label.txt").read_text()
