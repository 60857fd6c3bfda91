"""``python -m ocr_ds.tools.print_config`` against MMOCR 0.6.3's tools/misc/print_config.py on
shipped configs with ``--cfg-options``: the same ``Config:`` printout, as Python that defines
the same values (mmcv lays the text out with yapf, so line breaks differ)."""
import contextlib
import os
import subprocess
import sys

import pytest

from ocr_ds.tools import print_config
from parity import ref_file

REF = ref_file(__file__, "mmocr_print_config.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGVS = [["configs/textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py", "--cfg-options",
          "optimizer.lr=0.5", "data.samples_per_gpu=2", "model.backbone.norm_eval=False"],
         ["configs/textrecog/crnn/crnn_academic_dataset.py", "--options",
          "evaluation.interval=2", "lr_config.step=[1,2]"],
         ["configs/kie/sdmgr/sdmgr_unet16_60e_wildreceipt.py"],
         ["configs/ner/bert_softmax/bert_softmax_cluener_18e.py"]]


def values(text):
    assert text.startswith("Config:\n")
    space = {}
    exec(text[len("Config:\n"):], space)  # noqa: S102 -- the configs' own Python
    return {k: v for k, v in space.items() if k != "__builtins__"}


def test_printout_defines_mmocrs_values(mmocr_ref, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    theirs = mmocr_ref.call(REF, "run", argvs=[[os.path.join(ROOT, a) if a.startswith(
        "configs/") else a for a in argv] for argv in ARGVS])
    for argv, want in zip(ARGVS, theirs):
        with pytest.warns(UserWarning, match="deprecated") if "--options" in argv else \
                contextlib.nullcontext():
            assert print_config.main(argv) == 0
        ours = values(capsys.readouterr().out)
        assert ours == values(want), argv
    assert values(theirs[0])["optimizer"]["lr"] == 0.5


def test_bad_input_is_one_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    config = os.path.join(ROOT, ARGVS[0][0])
    for argv, message in [
            ([config, "--cfg-options", "optimizer"], "error: --cfg-options: "),
            ([config, "--cfg-options", "a=1", "--options", "b=2"],
             "error: --options: --options and --cfg-options cannot be both given"),
            ([str(tmp_path / "none.py")], "error: ")]:
        proc = subprocess.run([sys.executable, "-m", "ocr_ds.tools.print_config", *argv],
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 2 and proc.stdout == "", proc.stderr
        assert proc.stderr.startswith(message) and proc.stderr.count("\n") == 1, proc.stderr
