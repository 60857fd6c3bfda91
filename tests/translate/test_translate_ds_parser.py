"""DeepSpeed's own code is the judge: every golden dict goes through its config parser.

``DeepSpeedConfig`` asks ``deepspeed.comm`` for the rank and world size; with no process group
it would fall back to a world of 1, so the tests stand a fake ``dist`` in for it, reporting the
case's world size. The parser never checks the device, so the cuda-only fp16 cases parse here
too. For the cpu cases the optimizer DeepSpeed would build is built as well, through the
engine's own ``_configure_basic_optimizer``, to pin down Adam vs AdamW and ZeRO's tested list.
"""
from __future__ import annotations

import types

import pytest
import torch

deepspeed = pytest.importorskip("deepspeed")
from deepspeed.runtime import config as ds_config_module  # noqa: E402
from deepspeed.runtime.engine import DeepSpeedEngine  # noqa: E402
from deepspeed.runtime.zero.utils import ZERO_SUPPORTED_OPTIMIZERS  # noqa: E402

from ocr_ds.translate import translate  # noqa: E402
from ocr_ds.translate.zero_buffers import SIZE_KEYS  # noqa: E402
from translate_cases import CASES  # noqa: E402


def parse(ds: dict, world_size: int, monkeypatch) -> "ds_config_module.DeepSpeedConfig":
    fake_dist = types.SimpleNamespace(get_rank=lambda: 0,
                                      get_world_size=lambda group=None: world_size)
    monkeypatch.setattr(ds_config_module, "dist", fake_dist)
    return ds_config_module.DeepSpeedConfig(ds)


class _OptimizerOnly:
    """Just enough of an engine for DeepSpeedEngine._configure_basic_optimizer to run."""

    _configure_basic_optimizer = DeepSpeedEngine._configure_basic_optimizer
    get_optimizer_configuration = DeepSpeedEngine.get_optimizer_configuration
    has_moe_layers = False
    zenflow = False

    def __init__(self, parsed):
        self._parsed = parsed

    def optimizer_name(self):
        return self._parsed.optimizer_name

    def optimizer_params(self):
        return self._parsed.optimizer_params

    def zero_use_cpu_optimizer(self):
        offload = self._parsed.zero_config.offload_optimizer
        return offload is not None and offload.device in ("cpu", "nvme")


@pytest.mark.parametrize("cfg, kwargs, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_deepspeed_parser_accepts_and_reads_back(cfg, kwargs, expected, monkeypatch):
    ds = translate(cfg, **kwargs).ds_config
    parsed = parse(ds, kwargs["world_size"], monkeypatch)

    assert parsed.world_size == kwargs["world_size"]
    assert parsed.train_batch_size == ds["train_batch_size"]
    assert parsed.train_micro_batch_size_per_gpu == ds["train_micro_batch_size_per_gpu"]
    assert parsed.gradient_accumulation_steps == ds["gradient_accumulation_steps"]
    assert parsed.gradient_clipping == ds["gradient_clipping"]
    assert parsed.steps_per_print == ds["steps_per_print"]
    assert parsed.optimizer_name == ds["optimizer"]["type"]
    assert parsed.optimizer_params == ds["optimizer"]["params"]
    assert parsed.zero_optimization_stage == ds.get("zero_optimization", {}).get("stage", 0)
    assert parsed.zero_allow_untested_optimizer == ds.get("zero_allow_untested_optimizer", False)
    # every ZeRO buffer size reads back as written (either spelling of a key)
    fields = type(parsed.zero_config).model_fields
    for key, value in ds.get("zero_optimization", {}).items():
        if key in SIZE_KEYS:
            name = next(n for n, f in fields.items() if key in (n, f.alias))
            assert getattr(parsed.zero_config, name) == value, key

    fp16 = ds.get("fp16", {})
    assert parsed.float16_config.enabled == fp16.get("enabled", False)
    if fp16.get("enabled"):
        assert parsed.float16_config.loss_scale == fp16["loss_scale"]
        if fp16["loss_scale"] == 0:
            assert parsed.float16_config.initial_scale_power == fp16["initial_scale_power"]
            assert parsed.float16_config.loss_scale_window == fp16["loss_scale_window"]
            assert parsed.float16_config.hysteresis == fp16["hysteresis"]
            assert parsed.float16_config.min_loss_scale == fp16["min_loss_scale"]
    assert parsed.bfloat16_config.enabled == ds.get("bf16", {}).get("enabled", False)
    autocast = ds.get("torch_autocast", {})
    assert parsed.torch_autocast_enabled == autocast.get("enabled", False)
    if autocast:
        assert parsed.torch_autocast_dtype == getattr(torch, autocast["dtype"])
        assert (parsed.torch_autocast_lower_precision_safe_modules
                == autocast.get("lower_precision_safe_modules"))

    if kwargs.get("accelerator", "cpu") == "cpu":
        # what deepspeed.initialize would build here, without compiling anything
        param = torch.nn.Parameter(torch.zeros(3))
        optimizer = _OptimizerOnly(parsed)._configure_basic_optimizer([param])
        if parsed.zero_optimization_stage >= 1:
            untested = type(optimizer) not in ZERO_SUPPORTED_OPTIMIZERS
            assert parsed.zero_allow_untested_optimizer == untested


@pytest.mark.parametrize("spec, cls, decoupled", [
    (dict(type="Adam", lr=1e-3, weight_decay=0.1), torch.optim.Adam, False),
    (dict(type="AdamW", lr=1e-3, weight_decay=0.1), torch.optim.AdamW, True),
    (dict(type="SGD", lr=0.007, momentum=0.9), torch.optim.SGD, None),
    (dict(type="Adadelta", lr=1.0), torch.optim.Adadelta, None),
])
def test_deepspeed_builds_the_mmcv_optimizer_on_cpu(spec, cls, decoupled, monkeypatch):
    ds = translate(dict(optimizer=spec, data=dict(samples_per_gpu=2)), world_size=1).ds_config
    optimizer = _OptimizerOnly(parse(ds, 1, monkeypatch))._configure_basic_optimizer(
        [torch.nn.Parameter(torch.ones(3))])
    assert type(optimizer) is cls
    group = optimizer.param_groups[0]
    assert group["lr"] == spec["lr"]
    if decoupled is not None:
        assert group["weight_decay"] == 0.1
        # one step with a zero gradient tells L2 from decoupled weight decay
        param = group["params"][0]
        param.grad = torch.zeros_like(param)
        optimizer.step()
        if decoupled:   # AdamW: w -= lr*wd*w, and the zero gradient leaves Adam's update at 0
            assert torch.allclose(param.detach(), torch.full((3,), 1 - 1e-3 * 0.1))
        else:           # Adam: grad = wd*w -> normalised step of ~lr
            assert torch.allclose(param.detach(), torch.full((3,), 1 - 1e-3), atol=1e-6)
