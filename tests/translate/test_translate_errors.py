"""Every way a config or DeepSpeed section can be wrong: a one-line UserError naming the key."""
from __future__ import annotations

import json

import pytest

from ocr_ds.errors import UserError
from ocr_ds.translate import load_ds_json, translate
from translate_cases import ADAM_CLIP, DBNET


def cfg_with(**changes):
    """DBNET with top-level keys replaced (None removes the key)."""
    out = dict(DBNET, **changes)
    return {k: v for k, v in out.items() if v is not None}


SGD = DBNET["optimizer"]

# (id, cfg, translate kwargs, message fragment the error must contain)
BAD = [
    ("no_optimizer", cfg_with(optimizer=None), {},
     "optimizer: missing; expected dict(type=<optimizer name>"),
    ("optimizer_not_dict", cfg_with(optimizer="SGD"), {}, "optimizer: expected dict(type="),
    ("no_optimizer_type", cfg_with(optimizer=dict(lr=0.1)), {}, "optimizer.type: missing"),
    ("unknown_optimizer", cfg_with(optimizer=dict(type="Foo", lr=0.1)), {},
     "optimizer.type: unknown optimizer 'Foo'; expected one of DeepSpeed's adagrad, adam"),
    ("wrong_case_torch_name", cfg_with(optimizer=dict(type="sgd", lr=0.1)), {},
     "did you mean 'SGD'?"),
    ("removed_onebit", cfg_with(optimizer=dict(type="OneBitAdam", lr=0.1)), {},
     "optimizer.type: 'OneBitAdam' was removed from DeepSpeed"),
    ("lbfgs", cfg_with(optimizer=dict(type="LBFGS", lr=0.1)), {},
     "optimizer.type: torch.optim.LBFGS cannot be used: it needs a closure"),
    ("max_grad_norm", cfg_with(optimizer=dict(SGD, max_grad_norm=1.0)), {},
     "optimizer.max_grad_norm: DeepSpeed rejects it as an optimizer parameter"),
    ("paramwise_cfg", cfg_with(optimizer=dict(SGD, paramwise_cfg=dict(bias_lr_mult=2.))), {},
     "optimizer.paramwise_cfg: per-parameter options (mmcv's paramwise_cfg) are not supported"),
    ("constructor", cfg_with(optimizer=dict(SGD, constructor="MyConstructor")), {},
     "optimizer.constructor: custom optimizer constructors are not supported"),
    ("adamw_l2", cfg_with(optimizer=dict(type="AdamW", adam_w_mode=False)), {},
     "optimizer.adam_w_mode: DeepSpeed's 'adamw' always decouples weight decay"),
    ("non_json_param", cfg_with(optimizer=dict(SGD, momentum=object())), {},
     "optimizer.momentum: expected a JSON value"),
    ("mup_missing", cfg_with(optimizer=dict(type="MuAdam", lr=0.1)), {},
     "needs the 'mup' package"),
    ("lamb_on_cpu", cfg_with(optimizer=dict(type="Lamb", lr=0.1)), {},
     "optimizer.type: DeepSpeed's 'lamb' is a GPU kernel"),
    ("lamb_static_fp16", cfg_with(optimizer=dict(type="lamb"), fp16=dict(loss_scale=128.)),
     {"accelerator": "cuda"}, "'lamb' needs dynamic loss scaling"),
    ("lion_on_cpu", cfg_with(optimizer=dict(type="Lion", lr=0.1)), {},
     "DeepSpeed's 'lion' is a GPU kernel"),
    ("norm_type_1", cfg_with(optimizer_config=dict(grad_clip=dict(max_norm=1, norm_type=1))), {},
     "optimizer_config.grad_clip.norm_type: DeepSpeed clips by L2 norm only (got 1)"),
    ("norm_type_inf", cfg_with(optimizer_config=dict(grad_clip=dict(max_norm=1,
                                                                    norm_type=float("inf")))), {},
     "optimizer_config.grad_clip.norm_type: DeepSpeed clips by L2 norm only (got inf)"),
    ("max_norm_missing", cfg_with(optimizer_config=dict(grad_clip=dict(norm_type=2))), {},
     "optimizer_config.grad_clip.max_norm: missing; expected a positive number"),
    ("max_norm_zero", cfg_with(optimizer_config=dict(grad_clip=dict(max_norm=0))), {},
     "optimizer_config.grad_clip.max_norm: expected a positive number (got 0)"),
    ("max_norm_negative", cfg_with(optimizer_config=dict(grad_clip=dict(max_norm=-3.5))), {},
     "optimizer_config.grad_clip.max_norm: expected a positive number (got -3.5)"),
    ("grad_clip_unknown_key", cfg_with(optimizer_config=dict(grad_clip=dict(max_norm=1,
                                                                            clip_value=3))), {},
     "optimizer_config.grad_clip.clip_value: not an option of grad_clip"),
    ("error_if_nonfinite", cfg_with(optimizer_config=dict(grad_clip=dict(
        max_norm=1, error_if_nonfinite=True))), {},
     "optimizer_config.grad_clip.error_if_nonfinite: not supported"),
    ("unknown_hook", cfg_with(optimizer_config=dict(type="MyHook")), {},
     "optimizer_config.type: unknown 'MyHook'; expected one of: Fp16OptimizerHook"),
    ("cumulative_zero", cfg_with(optimizer_config=dict(type="GradientCumulativeOptimizerHook",
                                                       cumulative_iters=0)), {},
     "optimizer_config.cumulative_iters: expected a positive integer (got 0)"),
    ("cumulative_on_plain_hook", cfg_with(optimizer_config=dict(cumulative_iters=4)), {},
     "optimizer_config.cumulative_iters: not an option of OptimizerHook"),
    ("detect_anomalous", cfg_with(optimizer_config=dict(detect_anomalous_params=True)), {},
     "optimizer_config.detect_anomalous_params: not supported"),
    ("no_data", cfg_with(data=None), {}, "data.samples_per_gpu: missing"),
    ("no_samples_per_gpu", cfg_with(data=dict(workers_per_gpu=2)), {},
     "data.samples_per_gpu: missing; expected a positive integer"),
    ("samples_per_gpu_zero", cfg_with(data=dict(samples_per_gpu=0)), {},
     "data.samples_per_gpu: expected a positive integer (got 0)"),
    ("loader_samples_str", cfg_with(data=dict(samples_per_gpu=2, train_dataloader=dict(
        samples_per_gpu="8"))), {},
     "data.train_dataloader.samples_per_gpu: expected a positive integer (got '8')"),
    ("fp16_on_cpu", cfg_with(fp16=dict(loss_scale=512.)), {},
     "fp16: the cpu accelerator cannot train in fp16; choose explicitly: --cfg-options "
     "fp16=None (fp32) or fp16=None bf16.enabled=True (bf16)"),
    ("fp16_hook_on_cpu", cfg_with(optimizer_config=dict(type="Fp16OptimizerHook",
                                                        loss_scale=512.)), {},
     "optimizer_config.type: Fp16OptimizerHook trains in fp16, which the cpu accelerator cannot; "
     "choose explicitly: --cfg-options optimizer_config.type=OptimizerHook (fp32)"),
    ("user_fp16_on_cpu", DBNET, {"ds_overrides": {"fp16": {"enabled": True}}},
     "ds_config.fp16.enabled: true, but the cpu accelerator cannot train in fp16"),
    ("fp16_bad_string", cfg_with(fp16=dict(loss_scale="static")), {"accelerator": "cuda"},
     "fp16.loss_scale: expected a positive number (static scale), 'dynamic', or dict("),
    ("fp16_negative", cfg_with(fp16=dict(loss_scale=-1)), {"accelerator": "cuda"},
     "fp16.loss_scale: expected a positive number (got -1)"),
    ("fp16_unknown_key", cfg_with(fp16=dict(loss_scale=512., opt_level="O1")),
     {"accelerator": "cuda"}, "fp16.opt_level: not an option of fp16"),
    ("init_scale_not_pow2", cfg_with(fp16=dict(loss_scale=dict(init_scale=1000.))),
     {"accelerator": "cuda"}, "fp16.loss_scale.init_scale: DeepSpeed starts the dynamic scale at "
     "a power of two"),
    ("growth_factor", cfg_with(fp16=dict(loss_scale=dict(growth_factor=4.0))),
     {"accelerator": "cuda"}, "fp16.loss_scale.growth_factor: DeepSpeed's dynamic loss scale "
     "uses a fixed 2.0 (got 4.0)"),
    ("gradscaler_unknown", cfg_with(fp16=dict(loss_scale=dict(init_scale=2.**16, foo=1))),
     {"accelerator": "cuda"}, "fp16.loss_scale.foo: not an option of the dynamic loss scale"),
    ("loss_scale_twice", cfg_with(fp16=dict(loss_scale=512.), optimizer_config=dict(
        type="Fp16OptimizerHook", loss_scale=128.)), {"accelerator": "cuda"},
     "fp16.loss_scale, optimizer_config.loss_scale: set twice with different values"),
    ("fp16_and_bf16", cfg_with(fp16=dict(loss_scale=512.), bf16=dict(enabled=True)),
     {"accelerator": "cuda"}, "fp16 and bf16: both enabled"),
    ("bf16_and_autocast", cfg_with(bf16=dict(enabled=True), autocast=dict(dtype="bfloat16")), {},
     "bf16 and autocast: both enabled"),
    ("bf16_unknown_key", cfg_with(bf16=dict(enabled=True, loss_scale=1)), {},
     "bf16.loss_scale: not an option of DeepSpeed's bf16 section"),
    ("bf16_enabled_str", cfg_with(bf16=dict(enabled="yes")), {},
     "bf16.enabled: expected True or False (got 'yes')"),
    ("autocast_dtype", cfg_with(autocast=dict(dtype="int8")), {},
     "autocast.dtype: expected 'bfloat16' or 'float16' (got 'int8')"),
    ("autocast_no_dtype", cfg_with(autocast=dict()), {}, "autocast.dtype: missing"),
    ("autocast_modules", cfg_with(autocast=dict(dtype="bf16", lower_precision_safe_modules=[
        "Conv2d"])), {}, "autocast.lower_precision_safe_modules: expected a list of full class "
     "names"),
    ("scheduler", cfg_with(deepspeed=dict(scheduler=dict(type="WarmupLR"))), {},
     "deepspeed.scheduler: not supported: ocr_ds drives the learning rate itself from lr_config"),
    ("scheduler_cli", DBNET, {"ds_overrides": {"scheduler": {"type": "WarmupLR"}},
                              "ds_overrides_name": "ds.json"}, "ds.json.scheduler: not supported"),
    ("deepspeed_not_dict", cfg_with(deepspeed=[1]), {},
     "deepspeed: expected a dict of DeepSpeed config keys (got [1])"),
    ("zero_stage_4", cfg_with(deepspeed=dict(zero_optimization=dict(stage=4))), {},
     "deepspeed.zero_optimization.stage: expected 0, 1, 2 or 3 (got 4)"),
    ("zero_bool", DBNET, {"ds_overrides": {"zero_optimization": True}},
     "ds_config.zero_optimization: expected a dict such as {'stage': 2} (got True)"),
    ("zero_untested_refused", cfg_with(deepspeed=dict(zero_optimization=dict(stage=1),
                                                      zero_allow_untested_optimizer=False)), {},
     "zero_allow_untested_optimizer: false, but 'SGD' is not one of ZeRO's tested optimizers"),
    ("batch_identity", DBNET, {"world_size": 8, "ds_overrides": {
        "train_batch_size": 100, "train_micro_batch_size_per_gpu": 16,
        "gradient_accumulation_steps": 1}},
     "ds_config.train_batch_size: 100 != train_micro_batch_size_per_gpu x "
     "gradient_accumulation_steps x world_size = 16 x 1 x 8 = 128"),
    ("batch_not_multiple", DBNET, {"world_size": 8, "ds_overrides": {"train_batch_size": 100}},
     "ds_config.train_batch_size: 100 is not a multiple of train_micro_batch_size_per_gpu x "
     "world_size = 16 x 8"),
    ("batch_not_multiple_accum", DBNET, {"world_size": 2, "ds_overrides": {
        "train_batch_size": 10, "gradient_accumulation_steps": 4}},
     "ds_config.train_batch_size: 10 is not a multiple of gradient_accumulation_steps x "
     "world_size = 4 x 2"),
    ("user_micro_zero", cfg_with(deepspeed=dict(train_micro_batch_size_per_gpu=0)), {},
     "deepspeed.train_micro_batch_size_per_gpu: expected a positive integer (got 0)"),
    # (a ZeRO buffer size may be "auto": derived from the model, see translate_cases.py)
    ("auto_without_value", DBNET, {"ds_overrides": {"zero_optimization": {
        "stage": 2, "overlap_comm": "auto"}}},
     "ds_config.zero_optimization.overlap_comm: 'auto', but the config gives no value"),
    ("user_max_grad_norm", cfg_with(deepspeed=dict(optimizer=dict(params=dict(
        max_grad_norm=1.0)))), {}, "deepspeed.optimizer.params.max_grad_norm: DeepSpeed rejects"),
    ("user_unknown_optimizer", cfg_with(deepspeed=dict(optimizer=dict(type="Nope"))), {},
     "deepspeed.optimizer.type: unknown optimizer 'Nope'"),
]


@pytest.mark.parametrize("cfg, kwargs, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(cfg, kwargs, message):
    kwargs = dict({"world_size": 1}, **kwargs)
    with pytest.raises(UserError) as info:
        translate(cfg, **kwargs)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_many_distinct_bad_inputs():
    assert len({b[0] for b in BAD}) == len(BAD) >= 15


@pytest.mark.parametrize("kwargs", [dict(world_size=0), dict(world_size=True),
                                    dict(world_size=1, accelerator="tpu")])
def test_caller_mistakes_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        translate(DBNET, **kwargs)


def test_load_ds_json_reads_an_object(tmp_path):
    path = tmp_path / "ds.json"
    path.write_text(json.dumps({"zero_optimization": {"stage": 2}}))
    assert load_ds_json(str(path)) == {"zero_optimization": {"stage": 2}}


@pytest.mark.parametrize("content, message", [
    (None, "DeepSpeed JSON file not found"),
    ("{\"a\": 1,}", "invalid JSON at line 1 column 9"),
    ("[1, 2]", "expected a JSON object {...} at the top level (got list)"),
    ("{\"a\": 1, \"a\": 2}", "duplicate key 'a'"),
    (b"\xff\xfe{}", "not UTF-8 text"),
    ("DIR", "is a directory"),
])
def test_load_ds_json_errors(tmp_path, content, message):
    path = tmp_path / "ds.json"
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(UserError) as info:
        load_ds_json(str(path))
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)


def test_adam_config_is_not_an_error_on_cuda():
    translate(ADAM_CLIP, world_size=1, accelerator="cuda")
