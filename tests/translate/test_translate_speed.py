"""The opt-in speed keys: compile, channels_last, fused_optimizer (ocr_ds.translate.speed)."""
from __future__ import annotations

import pytest

from ocr_ds.errors import UserError
from ocr_ds.translate import translate
from translate_cases import ADAM_CLIP, CRNN, DBNET


def _tr(cfg, accelerator="cpu", **extra):
    return translate(dict(cfg, **extra), world_size=1, accelerator=accelerator)


def test_off_by_default_and_the_json_unchanged():
    tr = _tr(DBNET)
    assert tr.speed.compile is None and tr.speed.channels_last is False
    assert _tr(DBNET, fused_optimizer=False, compile=False).ds_config == tr.ds_config


def test_fused_optimizer_picks_fused_else_foreach():
    assert _tr(DBNET, fused_optimizer=True).ds_config["optimizer"]["params"]["fused"] is True
    crnn = _tr(CRNN, fused_optimizer=True)  # Adadelta has no fused kernel, a multi-tensor one
    assert crnn.ds_config["optimizer"]["params"]["foreach"] is True
    assert "fused_optimizer: Adadelta(foreach=True)" in crnn.notes
    # torch Adam (cpu: torch_adam) is fused; on a GPU DeepSpeed's FusedAdam stays
    assert _tr(ADAM_CLIP, fused_optimizer=True).ds_config["optimizer"]["params"]["fused"] is True
    gpu = _tr(ADAM_CLIP, "cuda", fused_optimizer=True)
    assert "fused" not in gpu.ds_config["optimizer"]["params"]
    assert any("runs its own FusedAdam" in n for n in gpu.notes)
    # an explicit choice wins
    mine = dict(DBNET, optimizer=dict(DBNET["optimizer"], foreach=False))
    assert _tr(mine, fused_optimizer=True).ds_config["optimizer"]["params"] == dict(
        lr=0.007, momentum=0.9, weight_decay=0.0001, foreach=False)


def test_compile_and_channels_last():
    tr = _tr(DBNET, compile=True, channels_last=True)
    assert tr.speed.compile == {"backend": "inductor", "compile_kwargs": {}}
    assert tr.speed.channels_last is True
    assert "compile" not in tr.ds_config  # engine.compile() is a call, not a JSON key
    tr = _tr(DBNET, compile=dict(backend="eager", mode="max-autotune", dynamic=False))
    assert tr.speed.compile == {"backend": "eager",
                                "compile_kwargs": {"mode": "max-autotune", "dynamic": False}}
    assert _tr(DBNET, compile=dict(enabled=False)).speed.compile is None
    # DeepSpeed's DeepCompile section turns compiling on
    tr = _tr(DBNET, deepspeed=dict(compile=dict(deepcompile=True)))
    assert tr.speed.compile is not None and tr.ds_config["compile"] == {"deepcompile": True}


@pytest.mark.parametrize("extra, message", [
    (dict(compile="yes"), r"^compile: expected True/False or a dict"),
    (dict(compile=dict(backnd="eager")), r"^compile.backnd: not an option of compile"),
    (dict(compile=dict(mode="fast")), r"^compile.mode: expected None, 'default'"),
    (dict(channels_last=1), r"^channels_last: expected True or False \(got 1\)$"),
    (dict(fused_optimizer="on"), r"^fused_optimizer: expected True or False \(got 'on'\)$"),
])
def test_bad_values_name_the_key(extra, message):
    with pytest.raises(UserError, match=message):
        _tr(DBNET, **extra)
