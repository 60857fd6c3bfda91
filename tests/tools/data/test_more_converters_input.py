"""The inputs where MMOCR 0.6.3's converters of tests/tools/data/test_more_converters.py crash or
misread: read correctly here, or a one-line error (exit 2) with nothing written."""
import json
import os
import re
import shutil

import pytest

import more_converter_trees as trees
import more_tool_trees as tool_trees
from more_converter_trees import tree_files
from ocr_ds.errors import UserError
from ocr_ds.tools.data.common import curvedsyntext_converter, extract_kaist, labelme_converter
from ocr_ds.tools.data.kie import closeset_to_openset
from ocr_ds.tools.data.textdet import bid_converter as det_bid
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


def test_inputs_mmocr_misreads_are_read(tmp_path):
    """IC13 recog: a word with ', "' in it and a last line without newline; IC13 det: blank
    lines and a BOM."""
    root = trees.ic13_recog(tmp_path / "r")
    trees.text(root / "annotations" / "Challenge2_Test_Task3_GT.txt",
               'w1.png, "say, "hi""\n\nw2.png, "end"')
    rec_ic13.main([str(root), "--format", "txt"])
    assert (root / "test_label.txt").read_text() == 'test/w1.png say, "hi"\ntest/w2.png end\n'
    det = trees.ic13(tmp_path / "d")
    trees.text(det / "annotations" / "test" / "gt_img_1.txt", trees.BOM + '1, 2, 5, 6, "a"\n\n')
    det_ic13.main([str(det)])
    coco = json.loads((det / "instances_test.json").read_text())
    assert [a["bbox"] for a in coco["annotations"]] == [[1, 2, 4, 4]]
    sroie = trees.sroie(tmp_path / "s")
    rec_sroie.main([str(sroie), "--format", "txt"])
    assert "training/X1_4.png TOTAL 1,000\n" in (sroie / "train_label.txt").read_text()
    assert "X1_5" not in (sroie / "train_label.txt").read_text()


def test_bid_val_ratio_too_small_keeps_training(tmp_path):
    """MMOCR: every image into val, an empty training set; here all stay in training."""
    root = trees.bid(tmp_path / "r")
    det_bid.main([str(root), "--val-ratio", "0.2"])
    assert len(json.loads((root / "instances_training.json").read_text())["images"]) == 3
    assert json.loads((root / "instances_val.json").read_text())["images"] == []
    with pytest.raises(UserError, match=re.escape("--val-ratio: expected a number in [0, 1]")):
        rec_bid.main([str(root), "--val-ratio", "1.5"])


def test_ilst_boxes_start_at_their_clipped_corner(tmp_path):
    """MMOCR's bbox starts at xmin, ymin as written (here -3, 8 for a right-to-left box past
    the edge); here at the clipped top-left corner, as the polygon; an empty name: iscrowd."""
    root = trees.ilst(tmp_path / "r")
    trees.text(root / "annotations" / "i2.xml", "<annotation><object><name/><bndbox><xmin>-3"
               "</xmin><ymin>8</ymin><xmax>5</xmax><ymax>2</ymax></bndbox></object></annotation>")
    det_ilst.main([str(root)])
    coco = json.loads((root / "instances_training.json").read_text())
    (ann,) = [a for a in coco["annotations"]
              if coco["images"][a["image_id"]]["file_name"] == "i2.png"]
    assert ann["bbox"] == [0, 2, 8, 6] and ann["segmentation"] == [[0, 2, 8, 2, 8, 8, 0, 8]]
    assert ann["iscrowd"] == 1


def test_imgur_box_is_read_whole(tmp_path):
    """MMOCR cuts the angle's last digit ('12.5]' -> 12.0, '0]' -> a traceback)."""
    from ocr_ds.tools.data.textdet.imgur_converter import oriented_quad, parse_box

    assert parse_box("[10, 10, 8, 4, 0]", "x").tolist() == [10, 10, 8, 4, 0]
    assert oriented_quad(parse_box("[10, 10, 8, 4, 12.5]", "x")) != oriented_quad(
        parse_box("[10, 10, 8, 4, 12.0]", "x"))


def test_closeset_labels_outside_wildreceipts_are_refused(tmp_path):
    root = tool_trees.wildreceipt_closeset(tmp_path / "r")
    trees.text(root / "closeset.txt", '{"file_name": "a", "height": 1, "width": 1, '
               '"annotations": [{"label": 2}, {"label": 26}]}\n')
    with pytest.raises(UserError, match="closeset.txt:1: close-set label 26 is not one of"):
        closeset_to_openset.main([str(root / "closeset.txt"), str(root / "o.txt")])
    assert not (root / "o.txt").exists()


def png_bytes():
    import cv2
    import numpy as np

    return cv2.imencode(".png", np.zeros((4, 4), np.uint8))[1].tobytes()


def test_labelme_warp_writes_the_upright_quadrangles(tmp_path):
    """MMOCR 0.6.3's --warp fails (np.int); here each 4-point polygon is warped."""
    root = tool_trees.labelme(tmp_path / "r")
    labelme_converter.main([str(root / "json"), str(root / "imgs"), str(root / "out"),
                            "--tasks", "det", "recog", "--warp", "--format", "txt"])
    warps = (root / "out" / "warp_train_label.txt").read_text().splitlines()
    assert [w.rsplit("/", 1)[1] for w in warps] == ["warp_0.jpg Hello", "warp_3.jpg last",
                                                    "warp_0.jpg b"]
    import cv2
    assert cv2.imread(str(root / "out" / "crops" / "a" / "warp_0.jpg")).shape[:2] == (8, 19)


def _gone(rel):
    return lambda r: os.remove(r / rel)


@pytest.mark.parametrize("tree, conv, edit, message", [
    (trees.ic13, det_ic13, _gone("annotations/test/gt_img_1.txt"),
     "gt_img_1.txt: missing annotation file of image"),
    (trees.ic13, det_ic13, lambda r: trees.text(r / "annotations/training/gt_img_2.txt",
                                                "1 2 x 4\n"),
     "gt_img_2.txt:1: expected left, top, right, bottom as integers separated by ' '"),
    (trees.ic13, det_ic13, lambda r: trees.text(r / "imgs/test/notes.txt", "x"),
     "gt_notes.txt: missing annotation file"),
    (trees.ic11, det_ic11, lambda r: trees.text(r / "imgs/training/img_3.gif", "no gif"),
     "img_3.gif: not a readable GIF"),
    (trees.ic13, det_ic13, lambda r: shutil.rmtree(r / "imgs" / "test"),
     "imgs/test: image directory of split 'test' not found"),
    (trees.ic13_recog, rec_ic13, lambda r: trees.text(
        r / "annotations/Challenge2_Test_Task3_GT.txt", "word_1.png flying\n"),
     'Challenge2_Test_Task3_GT.txt:1: expected NAME, "WORD"'),
    (trees.ic13_recog, rec_ic11, None, "Challenge1_Train_Task3_GT.txt: label file not found"),
    (trees.svt, svt_converter, _gone("test.xml"), "test.xml not exists"),
    (trees.svt, svt_converter, _gone("img/00_01.jpg"), "00_01.jpg: no such image file"),
    (trees.svt, svt_converter, lambda r: trees.text(r / "test.xml", (r / "test.xml").read_text()
                                                     .replace('height="10"', 'height="0"', 1)),
     "rectangle x=3 y=4 width=20 height=0: the crop is empty"),
    (trees.svt, svt_converter, lambda r: trees.text(r / "test.xml", (r / "test.xml").read_text()
                                                     .replace("<lex>one</lex>", "")),
     "image img/00_01.jpg: expected a non-empty <lex>"),
    (trees.funsd, det_funsd, _gone("imgs/0002.png"), "0002.png: no such image file"),
    (trees.funsd, rec_funsd, lambda r: trees.text(r / "annotations/test/0003.json", "{"),
     "0003.json: not a valid JSON FUNSD annotation"),
    (trees.funsd, det_funsd, lambda r: trees.text(r / "annotations/test/0003.json",
                                                  '{"form": [{"words": [{"box": [1, 2]}]}]}'),
     '0003.json: expected {"form": '),
    (trees.sroie, det_sroie, _gone("imgs/training/X2.jpg"), "X2.jpg: no such image file"),
    (trees.sroie, rec_sroie, lambda r: shutil.rmtree(r / "annotations" / "test"),
     "annotations/test: annotation directory of split 'test' not found"),
    (trees.naf, det_naf, _gone("annotations/train_valid_test_split.json"),
     "train_valid_test_split.json: NAF split file not found"),
    (trees.naf, rec_naf, lambda r: trees.text(r / "annotations/groups/g2/d.json",
                                              '{"textBBs": [], "fieldBBs": [{"id": "f1"}]}'),
     'd.json: expected {"textBBs": [...], "fieldBBs": '),
    (trees.vintext, det_vintext, _gone("annotations/gt_10.txt"),
     "gt_10.txt: missing annotation file of image"),
    (trees.vintext, rec_vintext, lambda r: trees.text(r / "annotations/gt_2.txt", "1,2,3,4,x\n"),
     "gt_2.txt:1: expected x1,y1,...,x4,y4,text with integer coordinates"),
    (trees.vintext, det_vintext, lambda r: trees.image(r / "imgs/test/cover.jpg"),
     "cover.jpg: expected VinText's image names imNNNN.jpg"),
    (trees.bid, det_bid, _gone("annotations/00000003_gt_ocr.txt"),
     "00000003_gt_ocr.txt: missing annotation file of image"),
    (trees.bid, rec_bid, lambda r: trees.text(r / "annotations/00000003_gt_ocr.txt", "1, 2, a"),
     "00000003_gt_ocr.txt:1: expected x, y, w, h, text with integer x, y, w, h"),
    (trees.detext, rec_detext, _gone("annotations/val/gt_v1.txt"),
     "gt_v1.txt: missing annotation file of image"),
    (trees.ilst, rec_ilst, lambda r: trees.text(r / "annotations/i2.xml", "<annotation>"),
     "i2.xml: not a valid XML file"),
    (trees.ilst, det_ilst, lambda r: trees.text(r / "annotations/i2.xml",
                                                "<a><object><name>x</name></object></a>"),
     "i2.xml: <object> 1: expected a <bndbox> with integer"),
    (trees.imgur, det_imgur, _gone("annotations/imgur5k_annotations_val.json"),
     "imgur5k_annotations_val.json not exists"),
    (trees.imgur, rec_imgur, lambda r: trees.text(r / "annotations/imgur5k_annotations_val.json",
                                                  '{"index_to_ann_map": {"v1": ["zz"]}, '
                                                  '"ann_id": {}}'),
     "imgur5k_annotations_val.json: expected {\"index_to_ann_map\""),
    (trees.kaist, det_kaist, _gone("annotations/00002.xml"),
     "00002.xml: missing annotation file of image"),
    (trees.kaist, rec_kaist, lambda r: trees.text(r / "annotations/00002.xml",
                                                  '<image><word x="1" /></image>'),
     "00002.xml: <word> 1: expected integer x, y, width, height"),
    (trees.kaist_zips, extract_kaist, lambda r: trees.text(
        r / "KAIST/Mixed/Mobile_Phone/m.zip", "not a zip"), "m.zip: not a readable zip file"),
    (trees.lv, rec_lv, lambda r: trees.text(r / "val_label.txt", "Crops/val/3/1/1.jpg x\n"),
     "val_label.txt:1: expected 'NAME.png WORD'"),
    (trees.lv, det_lv, lambda r: trees.text(r / "imgs/val/3/1/a.xml", "<annotation>"),
     "a.xml: not a valid XML file"),
    (tool_trees.seg_synthtext, seg_synthtext_converter,
     lambda r: trees.text(r / "1/b.txt", "x\n1 2\n3 4\n"),
     "b.txt:3: more character boxes than the 1 characters of 'x'"),
    (tool_trees.curvedsyntext, curvedsyntext_converter, lambda r: trees.text(
        r / "train2.json", json.dumps(dict(images=[], annotations=[dict(
            id=0, image_id=0, bezier_pts=[0] * 16, rec=[97])]))),
     "train2.json: annotation 0: rec: expected character indices 0..96 (got 97)"),
    (tool_trees.openvino, openvino_converter, lambda r: trees.text(r / "imgs/c.jpg", png_bytes()),
     "c.jpg: expected a JPEG image"),
])
def test_bad_input_is_one_line_and_nothing_is_written(tmp_path, tree, conv, edit, message):
    root = tree(tmp_path / "r")
    if edit:
        edit(root)
    before = tree_files(root)
    argv = [str(root)] if conv is not seg_synthtext_converter else [
        "--data-root", str(root), "--in-path", str(root / "mapping.txt"), "--out-path",
        str(root / "out.txt")]
    with pytest.raises(UserError, match=re.escape(message)):
        conv.main(argv)
    assert tree_files(root) == before
    assert not [f for f in os.listdir(root) if f.startswith(".")]
