"""``python -m ocr_ds.tools.data.textrecog.synthtext_converter`` against MMOCR 0.6.3's own
script: the same crops and label files, byte for byte, from a SynthText-style ``gt.mat``
(padded txt rows, a single word box, an image whose words and boxes disagree: left out), and a
second run writes nothing new (it resumes)."""
import os

import numpy as np
import pytest

import converter_trees as trees
from ocr_ds.errors import UserError
from ocr_ds.tools.data.textrecog import synthtext_converter
from parity import ref_file

REF = ref_file(__file__, "mmocr_converters.py")


def tree(root):
    """The detection test's SynthText tree, plus an image with 2 words for 1 box."""
    import scipy.io

    trees.synthtext(root)
    trees.image(root / "imgs" / "9" / "odd_1.jpg", 20, 20)
    gt = scipy.io.loadmat(str(root / "gt.mat"))
    cells = {k: np.empty((1, 3), dtype=object) for k in ("imnames", "wordBB", "charBB", "txt")}
    for k in cells:
        for i in range(2):
            cells[k][0, i] = gt[k][0, i]
    cells["imnames"][0, 2] = "9/odd_1.jpg"
    cells["wordBB"][0, 2] = gt["wordBB"][0, 1]
    cells["charBB"][0, 2] = gt["charBB"][0, 1]
    cells["txt"][0, 2] = np.array(["a bc"])
    scipy.io.savemat(str(root / "gt.mat"), cells)
    return root


def files(folder):
    return {os.path.relpath(os.path.join(d, n), folder): open(os.path.join(d, n), "rb").read()
            for d, _, names in os.walk(folder) for n in names}


def test_same_files_as_mmocr(tmp_path, mmocr_ref):
    ref, ours = tree(tmp_path / "ref"), tree(tmp_path / "ours")
    assert mmocr_ref.call(REF, "run_scripts", runs=[(
        "textrecog/synthtext_converter.py",
        [str(ref / "gt.mat"), str(ref / "imgs"), str(tmp_path / "ref_out")])]) == [None]
    argv = [str(ours / "gt.mat"), str(ours / "imgs"), str(tmp_path / "ours_out"), "--n_proc", "2"]
    assert synthtext_converter.main(argv) == 0
    theirs, got = files(tmp_path / "ref_out"), files(tmp_path / "ours_out")
    assert got == theirs
    assert sorted(got) == ["8/ballet_1_0.png", "8/ballet_1_0.txt", "8/ballet_1_1.png",
                           "8/ballet_1_1.txt", "8/ballet_1_2.png", "8/ballet_1_2.txt",
                           "8/ballet_2_0.png", "8/ballet_2_0.txt"]
    assert got["8/ballet_1_1.txt"].decode().splitlines()[0] == "you"
    stamps = {p: os.stat(tmp_path / "ours_out" / p).st_mtime_ns for p in got}
    assert synthtext_converter.main(argv) == 0                      # resumes: nothing rewritten
    assert {p: os.stat(tmp_path / "ours_out" / p).st_mtime_ns for p in got} == stamps


def test_bad_input_is_one_line(tmp_path):
    root = tree(tmp_path / "st")
    with pytest.raises(UserError, match="gt.mat: SynthText's gt.mat not found"):
        synthtext_converter.main([str(root / "none" / "gt.mat"), str(root / "imgs"),
                                  str(tmp_path / "out")])
    os.remove(root / "imgs" / "8" / "ballet_2.jpg")
    with pytest.raises(UserError, match="ballet_2.jpg: image not found"):
        synthtext_converter.main([str(root / "gt.mat"), str(root / "imgs"), str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()
