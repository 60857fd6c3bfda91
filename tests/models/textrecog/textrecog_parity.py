"""Our side of the encoder-decoder recogniser parity tests (shared by the SAR and RobustScanner
tests): build, one training forward/backward, one test forward -- what the ref side's
``mmocr_textrecog.recognizer`` does with MMOCR's classes -- and the comparison of the two; the
seeded-initialisation comparison of the MASTER and ABINet tests; and the clean load of an
MMOCR-published checkpoint (also used by the SegOCR test)."""
from __future__ import annotations

import copy
import logging
import os
import random

import numpy as np
import torch

from ocr_ds.engine.builder import build_model, load_weights
from ocr_ds.registry import MODELS, build
from parity import assert_close, assert_same_keys, ref_file

REF = ref_file(__file__, "mmocr_textrecog.py")


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def assert_same_init_as_mmocr(mmocr_ref, model_cfg: dict, seed: int, what: str = "model") -> dict:
    """Build ``model_cfg`` here and in MMOCR (``init_stats_by_seed``) from one seed and compare
    keys, shapes and every initial tensor's exact statistics (mean, std, sum of squares: equal
    only if every tensor was drawn the same way); return ours."""
    theirs = mmocr_ref.call(REF, "init_stats_by_seed", model_cfg=model_cfg, seed=seed)
    seed_all(seed)
    model = build(MODELS, copy.deepcopy(model_cfg), "model")
    model.init_weights()
    ours = {}
    for k, v in model.state_dict().items():
        v = v.double()
        ours[k] = (tuple(v.shape), float(v.mean()) if v.numel() else 0.0,
                   float(v.std()) if v.numel() > 1 else 0.0, float((v * v).sum()))
    assert sorted(ours) == sorted(theirs), what
    bad = [k for k in theirs if ours[k] != tuple(theirs[k])]
    assert not bad, f"{what}: {len(bad)} tensors differ from MMOCR's, e.g. {bad[:5]}"
    return ours


def batch(widths: list[int], texts: list[str], height: int = 16, seed: int = 0) -> dict:
    """Images padded to the widest (as the collate does) and metas with their resize_shape."""
    gen = torch.Generator().manual_seed(seed)
    width = max(widths)
    img = torch.zeros(len(widths), 3, height, width)
    for i, w in enumerate(widths):
        img[i, :, :, :w] = torch.randn(3, height, w, generator=gen)
    metas = [dict(resize_shape=(height, w, 3), valid_ratio=min(1.0, w / width), text=t,
                  filename=f"{i}.png") for i, (w, t) in enumerate(zip(widths, texts))]
    return dict(img=img, img_metas=metas)


def run_ours(model_cfg: dict, seed: int, data: dict, train_seed: int) -> dict:
    seed_all(seed)
    model = build_model(dict(model=copy.deepcopy(model_cfg)))
    captured = []
    model.decoder.register_forward_hook(lambda m, i, o: captured.append(o.detach().clone()))
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.train()
    seed_all(train_seed)
    losses = model(copy.deepcopy(data), return_loss=True)
    sum(v.mean() for k, v in losses.items() if "loss" in k).backward()
    grads = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
    model.eval()
    with torch.no_grad():
        results = model(copy.deepcopy(data), return_loss=False)
    return dict(model=model, state=state, losses={k: v.detach() for k, v in losses.items()},
                grads=grads, train_out=captured[0], test_out=captured[1],
                texts=[r["text"] for r in results], scores=[r["char_scores"] for r in results])


def check_recognizer(mmocr_ref, model_cfg: dict, data: dict, tmp_path, seed: int = 3,
                     train_seed: int = 11) -> dict:
    """Equal initial weights from one seed; equal losses, gradients, training logits, greedy
    outputs, texts and scores; MMOCR's published checkpoint loads with nothing missing."""
    ckpt = str(tmp_path / "mmocr.pth")
    theirs = mmocr_ref.call(REF, "recognizer", model_cfg=model_cfg, seed=seed, img=data["img"],
                            img_metas=data["img_metas"], train_seed=train_seed,
                            checkpoint=ckpt)
    ours = run_ours(model_cfg, seed, data, train_seed)
    assert_same_keys(ours["state"], theirs["state"])
    assert_close(ours["state"], theirs["state"], rtol=0, atol=0, what="initial state")
    assert_close(ours["train_out"], theirs["train_out"], what="training logits")
    assert_close(ours["losses"], theirs["losses"], what="loss")
    assert_close(ours["grads"], theirs["grads"], what="grad")
    assert_close(ours["test_out"], theirs["test_out"], what="test outputs")
    assert ours["texts"] == theirs["texts"]
    assert_close(ours["scores"], theirs["scores"], what="scores")
    assert_checkpoint_loads(model_cfg, ckpt, theirs["state"])
    return ours


def assert_checkpoint_loads(model_cfg: dict, ckpt: str, state: dict) -> None:
    """An MMOCR-written checkpoint loads through --load-from's loader with zero missing and
    zero unexpected keys (no warning) and gives exactly ``state``."""
    model = build_model(dict(model=copy.deepcopy(model_cfg)), init=False)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("parity-load")
    logger.addHandler(handler)
    try:
        load_weights(model, ckpt, logger)
    finally:
        logger.removeHandler(handler)
    warnings = [r.getMessage() for r in records if r.levelno >= logging.WARNING]
    assert not warnings, warnings
    assert_close(model.state_dict(), state, rtol=0, atol=0, what="loaded state")
    assert os.path.getsize(ckpt) > 0
