"""``--load-from``: MMOCR 0.6.3's own checkpoints of every supported model load with zero missing
and zero unexpected tensors; checkpoints of an earlier ocr_ds load renamed and compute what they
computed; a checkpoint of another model is a one-line error; the summary line."""
import logging
import os

import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.engine.builder import build_model, load_weights
from ocr_ds.errors import UserError
from parity import ref_file

REF = ref_file(__file__, "mmocr_checkpoints.py")
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "checkpoints")
# MMOCR 0.6.3 config (relative to its configs/) of each supported model
MMOCR_MODELS = [
    "textdet/psenet/psenet_r50_fpnf_600e_icdar2015.py",
    "textdet/panet/panet_r18_fpem_ffm_600e_icdar2015.py",
    "textrecog/crnn/crnn_academic_dataset.py",
    "textrecog/nrtr/nrtr_modality_transform_academic.py",  # (the R31 variants: keys and shapes
    "textrecog/satrn/satrn_small.py",  # in tests/models/nrtr, as satrn_academic's in .../satrn)
    "textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py",
    "textdet/dbnet/dbnet_r50dcnv2_fpnc_1200e_icdar2015.py",
    "textdet/dbnetpp/dbnetpp_r50dcnv2_fpnc_1200e_icdar2015.py",
    "textdet/fcenet/fcenet_r50dcnv2_fpn_1500e_ctw1500.py",
    "textdet/textsnake/textsnake_r50_fpn_unet_1200e_ctw1500.py",
    "textrecog/sar/sar_r31_parallel_decoder_academic.py",
    "textrecog/sar/sar_r31_sequential_decoder_academic.py",
    "textrecog/robust_scanner/robustscanner_r31_academic.py",
    "textrecog/master/master_r31_12e_ST_MJ_SA.py",
    "textrecog/tps/crnn_tps_academic_dataset.py",
    "textrecog/seg/seg_r31_1by16_fpnocr_academic.py",
]


class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append((record.levelno, record.getMessage()))


@pytest.fixture
def logger():
    log = logging.getLogger("test_load_from")
    handler = Records()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.records = handler.lines
    yield log
    log.removeHandler(handler)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("config", MMOCR_MODELS)
def test_mmocr_checkpoint_loads_with_nothing_missing(mmocr_ref, tmp_path, logger, config):
    path = str(tmp_path / "mmocr.pth")
    ref = mmocr_ref.call(REF, "publish", config=config, path=path)
    model_cfg = Config.fromfile(ref["config"]).to_dict()["model"]   # MMOCR's own file
    init_cfg = model_cfg.get("backbone", {}).get("init_cfg")   # a dict, a list or None
    if isinstance(init_cfg, dict) and init_cfg.get("type") == "Pretrained":
        model_cfg["backbone"]["init_cfg"] = None
    model = build_model({"model": model_cfg})
    load_weights(model, path, logger)
    n = len(model.state_dict())
    assert n == ref["tensors"]
    assert logger.records[-1] == (logging.INFO, f"load_from {path}: loaded {n} tensors; "
                                                "0 missing, 0 unexpected")
    assert len(logger.records) == 1                    # nothing renamed, nothing to report
    theirs = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    assert all(torch.equal(v, theirs[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("family", ["psenet", "dbnet"])
def test_earlier_ocr_ds_checkpoint_loads_renamed(logger, family):
    path = os.path.join(FIXTURES, f"ocr_ds_9380a69_{family}.pth")
    io = torch.load(os.path.join(FIXTURES, f"ocr_ds_9380a69_{family}_io.pt"), weights_only=True)
    model = build_model({"model": io["model"]})
    load_weights(model, path, logger)
    n = len(model.state_dict())
    assert [level for level, _ in logger.records] == [logging.INFO, logging.INFO]
    note, summary = (line for _, line in logger.records)
    assert "have the names of an earlier ocr_ds" in note
    assert "neck.lateral_convs.0.0.weight" in note and "neck.lateral_convs.0.conv.weight" in note
    assert summary == f"load_from {path}: loaded {n} tensors; 0 missing, 0 unexpected"
    model.eval()
    with torch.no_grad():
        maps = model.bbox_head(model.extract_feat(io["img"]))
    torch.testing.assert_close(maps, io["maps"], rtol=1e-5, atol=1e-6)


TOY = dict(type="ToyRegressor", in_channels=1, size=8, hidden=32, out_features=4)


def test_partial_checkpoint_lists_what_did_not_load(tmp_path, logger):
    model = build_model({"model": TOY})
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("net.4.")}
    state["net.2.running_mean"] = torch.zeros(5)           # another shape
    state["extra.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "w.pth")
    load_weights(model, str(tmp_path / "w.pth"), logger)
    lines = [m for _, m in logger.records]
    assert "load_from: 2 tensors missing in the checkpoint (kept at their initial values): " \
           "net.4.weight, net.4.bias" in lines
    assert "load_from: 1 tensors in the checkpoint but not in the model (ignored): " \
           "extra.weight" in lines
    assert "load_from: 1 tensors of another shape in the checkpoint (kept at their initial " \
           "values): net.2.running_mean [5] vs [32]" in lines
    assert logger.records[-1] == (logging.WARNING, f"load_from {tmp_path / 'w.pth'}: loaded 6 "
                                  "tensors; 2 missing, 1 unexpected, 1 of another shape (kept "
                                  "at their initial values)")


def test_checkpoint_of_another_model_is_an_error(tmp_path, logger):
    model = build_model({"model": TOY})
    torch.save({"state_dict": {"net.1.weight": model.state_dict()["net.1.weight"],
                               "backbone.conv1.weight": torch.zeros(1)}, "meta": {}},
               tmp_path / "other.pth")
    with pytest.raises(UserError, match=r"^load_from: expected a checkpoint of this ToyRegressor "
                                        r"\(got .*other.pth, which has 1 of its 9 tensors by "
                                        r"name and shape; e.g. net.1.bias missing; "
                                        r"net.2.weight missing\)$"):
        load_weights(model, str(tmp_path / "other.pth"), logger)
    assert logger.records == []
