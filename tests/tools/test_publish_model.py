"""``python -m ocr_ds.tools.publish_model`` against MMOCR 0.6.3's tools/publish_model.py: the
same contents (weights, ``meta={'CLASSES': 0}``, no optimizer) and naming
(``NAME-<sha256 of the file>[:8].pth``), from a training checkpoint directory as from a file."""
import hashlib
import os
import re
import subprocess
import sys

import torch

from ocr_ds.tools import publish_model
from parity import ref_file

REF = ref_file(__file__, "mmocr_publish_model.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_published_file_equals_mmocrs(tmp_path, mmocr_ref):
    weights = {"backbone.conv.weight": torch.randn(4, 3, 3, 3),
               "head.fc.bias": torch.randn(5), "head.bn.num_batches_tracked": torch.tensor(7)}
    src = tmp_path / "epoch_3.pth"
    torch.save({"state_dict": weights, "meta": {"config": "model = dict()", "epoch": 3},
                "optimizer": {"state": {}, "param_groups": []}}, src)
    os.makedirs(tmp_path / "m")     # MMOCR's makes no directory
    theirs = mmocr_ref.call(REF, "run", in_file=str(src), out_file=str(tmp_path / "m" / "x.pth"))
    final = publish_model.publish(str(src), str(tmp_path / "ours" / "x.pth"))
    name = os.path.basename(final)
    assert re.fullmatch(r"x-[0-9a-f]{8}\.pth", name) and re.fullmatch(r"x-[0-9a-f]{8}\.pth",
                                                                      theirs["name"])
    assert name[2:10] == hashlib.sha256(open(final, "rb").read()).hexdigest()[:8]
    ours = torch.load(final, weights_only=True)
    assert sorted(ours) == theirs["keys"] == ["meta", "state_dict"]
    assert ours["meta"] == theirs["meta"] == {"CLASSES": 0}
    assert ours["state_dict"].keys() == theirs["state_dict"].keys() == weights.keys()
    for k, v in weights.items():
        assert torch.equal(ours["state_dict"][k], v) and torch.equal(theirs["state_dict"][k], v)
    assert os.listdir(tmp_path / "ours") == [name]          # made; nothing else left behind


def test_command_line(tmp_path):
    torch.save({"state_dict": {"w": torch.ones(2)}}, tmp_path / "in.pth")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "ocr_ds.tools.publish_model", str(tmp_path / "in.pth")]
    ok = subprocess.run(cmd + [str(tmp_path / "out" / "depth.pth")], capture_output=True,
                        text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    # MMOCR's out_file.rstrip('.pth') would name this one 'de-<sha>.pth'
    assert re.fullmatch(r".*/out/depth-[0-9a-f]{8}\.pth\n", ok.stdout)
    bad = subprocess.run(cmd + [str(tmp_path / "out.bin")], capture_output=True, text=True,
                         env=env, timeout=120)
    assert bad.returncode == 2 and bad.stderr == ("error: out_file: expected a .pth file name "
                                                  f"(got '{tmp_path}/out.bin')\n")
