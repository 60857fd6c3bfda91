"""CRNN-TPS (CRNNNet with MMOCR 0.6.3's TPSPreprocessor) against MMOCR's own code: the shipped
model config is MMOCR's, module tree and seeded initialisation bit-identical (the localisation
network's last layer starts at weight 0 and a trapezoid of control points), MMOCR's checkpoint
loads through ``--load-from`` with nothing missing, rectified images, loss, gradients, logits and
texts equal on the same weights; bad preprocessor values are one-line errors; the rectification
stays on MMOCR's fp32 grid in half precision and under bf16 autocast."""
import copy
import logging

import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.engine.builder import build_model, load_weights
from ocr_ds.errors import UserError
from ocr_ds.models.textrecog.preprocessors import TPSPreprocessor
from parity import assert_close, assert_same_keys, ref_file

REF = ref_file(__file__, "mmocr_crnn_tps.py")
SHIPPED = "configs/textrecog/tps/crnn_tps_academic_dataset.py"


pytestmark = pytest.mark.usefixtures("one_thread")


def _model_cfg():
    return Config.fromfile(SHIPPED).to_dict()["model"]


def _batch(seed):
    gen = torch.Generator().manual_seed(seed)
    img = torch.randn(3, 1, 32, 100, generator=gen)
    metas = [dict(text=t, resize_shape=(32, 100, 1), filename=f"{i}.jpg")
             for i, t in enumerate(["Hello", "a", "world42"])]
    return img, metas


def test_crnn_tps_init_checkpoint_train_and_test_equal_mmocr(mmocr_ref, tmp_path):
    img, metas = _batch(5)
    # a localisation layer that looks at the image (at init its weight is 0: the grid would be
    # the same for every image and the localisation convolutions would get no gradient)
    fc2_weight = 0.02 * torch.randn(40, 256, generator=torch.Generator().manual_seed(1))
    ckpt = str(tmp_path / "mmocr.pth")
    theirs = mmocr_ref.call(REF, "train_and_test", seed=7, img=img, img_metas=metas,
                            checkpoint=ckpt, fc2_weight=fc2_weight)
    cfg = _model_cfg()
    assert cfg == theirs["config"]
    torch.manual_seed(7)
    model = build_model({"model": cfg})
    assert_same_keys(model.state_dict(), theirs["state"])
    # every parameter drawn as MMOCR's; the spline's inverse matrix, a constant, only to the
    # last bits of its near-zero entries: numpy 2's LAPACK is not numpy 1.26's (MMOCR's venv)
    inverse = "preprocessor.GridGenerator.inv_delta_C"
    assert_close({k: v for k, v in model.state_dict().items() if k != inverse},
                 {k: v for k, v in theirs["state"].items() if k != inverse}, rtol=0, atol=0,
                 what="initial state")
    assert_close(model.state_dict()[inverse], theirs["state"][inverse], rtol=0, atol=1e-13,
                 what=inverse)
    fc2 = model.preprocessor.LocalizationNetwork.localization_fc2
    assert not fc2.weight.any() and fc2.bias[:4].tolist() == pytest.approx([-1, 0, -7 / 9, -1 / 9])

    records = []
    logger = logging.getLogger("test_crnn_tps_parity")
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        load_weights(model, ckpt, logger)
    finally:
        logger.removeHandler(handler)
    n = len(model.state_dict())
    assert [r.getMessage() for r in records] == [
        f"load_from {ckpt}: loaded {n} tensors; 0 missing, 0 unexpected"]
    assert_close(model.state_dict(), theirs["state"], rtol=0, atol=0, what="loaded state")

    with torch.no_grad():
        fc2.weight.copy_(fc2_weight)
    rectified, logits = [], []
    model.preprocessor.register_forward_hook(lambda m, i, o: rectified.append(o.detach()))
    model.decoder.register_forward_hook(lambda m, i, o: logits.append(o.detach()))
    model.train()
    loss = model({"img": img, "img_metas": metas})["loss_ctc"]
    loss.backward()
    model.eval()
    results = model({"img": img, "img_metas": metas}, return_loss=False)
    # the image-dependent grid really moved the samples away from the init's
    assert (rectified[0] - rectified[0][0]).abs().amax() > 0
    assert_close(rectified[0], theirs["train_rectified"], what="rectified (train)")
    assert_close(logits[0], theirs["train_logits"], what="logits (train)")
    assert_close(loss, theirs["loss"], what="loss")
    grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    assert any(k.startswith("preprocessor.LocalizationNetwork.conv.") for k in grads)
    assert_close(grads, theirs["grads"], what="grad")
    assert_close(rectified[1], theirs["test_rectified"], what="rectified (test)")
    assert_close(logits[1], theirs["test_logits"], what="logits (test)")
    assert [r["text"] for r in results] == [r["text"] for r in theirs["results"]]
    assert_close([r["char_scores"] for r in results], [r["score"] for r in theirs["results"]],
                 what="character scores")


@pytest.mark.parametrize("key, value, expected", [
    ("num_fiducial", 5, "an even integer >= 4"),     # MMOCR: a numpy shape error
    ("num_fiducial", 2, "an even integer >= 4"),     # MMOCR: a singular matrix (LinAlgError)
    ("num_fiducial", 0, "a positive integer"),
    ("num_fiducial", 20.0, "int"),
    ("rectified_img_size", (32,), "(height, width)"),
    ("rectified_img_size", [32, 0], "(height, width)"),
    ("img_size", "32x100", "expected a list"),   # (the annotation check)
    ("num_img_channel", 0, "a positive integer"),
])
def test_bad_tps_values_are_one_line_errors(key, value, expected):
    cfg = _model_cfg()
    cfg["preprocessor"][key] = value
    with pytest.raises(UserError) as err:
        build_model({"model": cfg})
    message = str(err.value)
    assert message.startswith(f"model.preprocessor.{key}: ") and "\n" not in message
    assert expected in message and repr(value) in message


def test_tps_in_half_precision_and_under_bf16_autocast_keeps_the_fp32_grid():
    """MMOCR's TPS cannot run in a half-precision model (fp32 zeros meet half buffers in one
    matrix product), and under bf16 autocast its spline products round the grid by pixels;
    ours computes the grid in float32, from float32 constants, whatever the model's dtype."""
    torch.manual_seed(0)
    tps = TPSPreprocessor().eval()
    with torch.no_grad():
        tps.LocalizationNetwork.localization_fc2.weight.normal_(0, 0.02)
    img = torch.randn(2, 1, 32, 100)
    loc, grids = tps.LocalizationNetwork, tps.GridGenerator
    with torch.no_grad():
        ref_grid = grids.build_P_prime(loc(img))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            points = loc(img)
            grid = grids.build_P_prime(points)
            out = tps(img)
        assert points.dtype == torch.bfloat16 and grid.dtype == torch.float32
        # the same control points in float32 give the grid to float32 precision
        assert_close(grid, grids.build_P_prime(points.float()), what="autocast grid")
        # and the image is sampled, in float32, on that grid
        assert torch.equal(out, torch.nn.functional.grid_sample(
            img, grid.view(2, 32, 100, 2), padding_mode="border", align_corners=True))
        for dtype in (torch.bfloat16, torch.float16):
            half = copy.deepcopy(tps).to(dtype)
            assert half.GridGenerator.P_hat.dtype == dtype      # the buffers are cast ...
            points = half.LocalizationNetwork(img.to(dtype))
            grid = half.GridGenerator.build_P_prime(points)
            # ... but the grid is the fp32 one for these points (rounded constants: ~2 px off)
            assert grid.dtype == torch.float32
            assert_close(grid, grids.build_P_prime(points.float()), what=f"{dtype} grid")
            # and within a fifth of a pixel (of 100) of the fp32 model's grid
            assert (grid - ref_grid).abs().amax() * 50 < 0.2
            assert half(img.to(dtype)).dtype == dtype


@pytest.mark.parametrize("mode", ["bf16 autocast", "bf16 model"])
def test_crnn_tps_trains_in_bf16(mode):
    """A training step of the whole CRNN-TPS in bf16 (DeepSpeed's ``torch_autocast`` or ``bf16``
    section) gives a finite loss and gradients that reach the localisation network."""
    torch.manual_seed(0)
    model = build_model({"model": _model_cfg()})
    with torch.no_grad():
        model.preprocessor.LocalizationNetwork.localization_fc2.weight.normal_(0, 0.02)
    img, metas = _batch(5)
    model.train()
    if mode == "bf16 model":
        model.to(torch.bfloat16)
        loss = model({"img": img.to(torch.bfloat16), "img_metas": metas})["loss_ctc"]
    else:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model({"img": img, "img_metas": metas})["loss_ctc"]
    loss.float().backward()
    assert torch.isfinite(loss).all()
    grad = model.preprocessor.LocalizationNetwork.conv[0].weight.grad
    assert torch.isfinite(grad).all() and grad.abs().amax() > 0
