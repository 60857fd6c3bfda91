"""``python -m ocr_ds.tools.data.textrecog.totaltext_converter``: the word crops and label files
of MMOCR 0.6.3's own converter (run in the reference venv), byte for byte."""
import os
from functools import partial

import pytest

import converter_trees as trees
from ocr_ds.errors import UserError
from ocr_ds.tools.data.textrecog import totaltext_converter

REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mmocr_converters.py")


def outputs(root):
    found = {}
    for d, _, files in os.walk(root):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), root)
            if rel.startswith("dst_imgs") or rel.endswith("_label.txt"):
                found[rel] = open(os.path.join(d, f), "rb").read()
    return found


def test_totaltext_word_crops_equal_mmocrs(tmp_path, mmocr_ref):
    # '#' transcriptions of .txt files are left out of this tree: MMOCR's textrecog converter
    # labels those crops '#' (its '#' -> '###' loop reassigns its loop variable), see below
    makers = {"txt": partial(trees.totaltext_txt, hash_words=False), "mat": trees.totaltext_mat}
    runs = []
    for name, make in makers.items():
        runs.append(("textrecog/totaltext_converter.py", [str(make(tmp_path / "ref" / name))]))
        assert totaltext_converter.main([str(make(tmp_path / "ours" / name))]
                                        + (["--nproc", "2"] if name == "mat" else [])) == 0
    assert mmocr_ref.call(REF, "run_scripts", runs=runs) == [None, None]
    for name in makers:
        theirs, mine = outputs(tmp_path / "ref" / name), outputs(tmp_path / "ours" / name)
        assert sorted(mine) == sorted(theirs), name
        assert all(mine[k] == theirs[k] for k in theirs), name
    labels = outputs(tmp_path / "ours" / "txt")
    assert labels["train_label.txt"].decode() == (
        "training/img1_1.png CURVE\ntraining/img1_2.png a,b\ntraining/img2_1.png TOTAL\n")
    assert labels["test_label.txt"].decode() == "test/img5_1.png Te\n"
    assert outputs(tmp_path / "ours" / "mat")["train_label.txt"].decode() == (
        "training/img1_1.png Hi\ntraining/img2_1.png dbl\n")
    assert not [f for f in os.listdir(tmp_path / "ours" / "txt") if f.startswith(".")]


def test_dont_care_hash_words_are_not_cropped(tmp_path):
    root = trees.totaltext_txt(tmp_path / "r")
    totaltext_converter.main([str(root)])
    assert (root / "train_label.txt").read_text() == (
        "training/img1_1.png CURVE\ntraining/img1_2.png a,b\ntraining/img2_1.png TOTAL\n")


def test_bad_input_leaves_nothing(tmp_path):
    root = trees.totaltext_txt(tmp_path / "r")
    trees.text(root / "imgs" / "test" / "img5.jpg", "not an image")
    with pytest.raises(UserError, match="img5.jpg: not a readable image"):
        totaltext_converter.main([str(root)])
    assert sorted(os.listdir(root)) == ["annotations", "imgs"]
