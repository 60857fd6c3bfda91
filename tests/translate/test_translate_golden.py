"""Golden DeepSpeed JSON for typical MMOCR configs, the notes that explain it, and the table."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ocr_ds.translate import TRANSLATION_TABLE, render_markdown_table, translate
from translate_cases import ADAM_CLIP, CASES, DBNET

REPO = Path(__file__).resolve().parents[2]


def case(name):
    """(cfg, kwargs) of the golden case called ``name``."""
    return next((c[1], c[2]) for c in CASES if c[0] == name)


@pytest.mark.parametrize("cfg, kwargs, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_golden(cfg, kwargs, expected):
    before = copy.deepcopy(cfg)
    result = translate(cfg, **kwargs)
    assert result.ds_config == expected
    json.dumps(result.ds_config)                      # plain JSON, as promised
    assert cfg == before                              # the config is not touched
    assert all(isinstance(n, str) and "\n" not in n for n in result.notes)


def _notes(cfg, **kwargs):
    return "\n".join(translate(cfg, **kwargs).notes)


def test_adam_keeps_torch_adam_semantics_and_says_so():
    notes = _notes(ADAM_CLIP, world_size=1)
    assert "adam_w_mode=false" in notes and "L2" in notes
    assert "torch_adam=true" in notes and "JIT-compile" in notes


def test_adam_explicit_adam_w_mode_is_respected():
    cfg = dict(ADAM_CLIP, optimizer=dict(type="Adam", lr=1e-3, adam_w_mode=True))
    ds = translate(cfg, world_size=1).ds_config
    assert ds["optimizer"]["params"]["adam_w_mode"] is True


@pytest.mark.parametrize("spelling", ["adam", "ADAM"])
def test_every_spelling_of_adam_is_l2_adam(spelling):
    cfg = dict(ADAM_CLIP, optimizer=dict(type=spelling, lr=1e-3))
    params = translate(cfg, world_size=1).ds_config["optimizer"]["params"]
    assert params["adam_w_mode"] is False


def test_user_torch_adam_choice_wins_on_cpu():
    cfg = dict(ADAM_CLIP, deepspeed=dict(optimizer=dict(params=dict(torch_adam=False))))
    result = translate(cfg, world_size=1)
    assert result.ds_config["optimizer"]["params"]["torch_adam"] is False


def test_no_clip_note_mentions_deepspeed_default():
    assert "gradient_clipping: 0.0" in _notes(DBNET, world_size=1)


def test_override_notes_give_both_values_and_the_winner():
    cfg, kwargs = case("user_overrides")
    notes = _notes(cfg, **kwargs)
    assert ("train_micro_batch_size_per_gpu: deepspeed sets 8, the config gives 16 "
            "(from data.samples_per_gpu); using 8 (the explicit DeepSpeed value wins)") in notes
    assert "gradient_clipping: deepspeed sets 1.0, the config gives 0.0" in notes
    assert "gradient_clipping: ds_config sets 2.0, deepspeed set 1.0; using 2.0" in notes
    assert "optimizer.params.lr: deepspeed sets 0.01, the config gives 0.007 (from optimizer.lr)" \
        in notes
    assert "train_batch_size: 32 (was 64)" in notes
    assert "the training loader takes 8 samples per rank, not data.samples_per_gpu=16" in notes
    assert "steps_per_print" not in notes             # our default, not the user's config


def test_overrides_name_appears_in_notes():
    notes = _notes(DBNET, world_size=1, ds_overrides={"gradient_clipping": 3.0},
                   ds_overrides_name="my_ds.json")
    assert "gradient_clipping: my_ds.json sets 3.0, the config gives 0.0" in notes


def test_accumulation_derived_from_user_train_batch_size():
    notes = _notes(DBNET, world_size=2, ds_overrides={"train_batch_size": 128})
    assert "gradient_accumulation_steps: 4 (was 1), so that train_batch_size 128 = 16 x 4 x " \
        "world_size 2" in notes


def test_user_micro_and_accumulation_derive_train_batch():
    ds = translate(DBNET, world_size=3, ds_overrides={"train_micro_batch_size_per_gpu": 2,
                                                      "gradient_accumulation_steps": 5}).ds_config
    assert (ds["train_batch_size"], ds["train_micro_batch_size_per_gpu"],
            ds["gradient_accumulation_steps"]) == (30, 2, 5)


def test_user_batch_and_accumulation_derive_micro():
    ds = translate(DBNET, world_size=2, ds_overrides={"train_batch_size": 48,
                                                      "gradient_accumulation_steps": 3}).ds_config
    assert ds["train_micro_batch_size_per_gpu"] == 8


def test_user_optimizer_of_another_type_replaces_the_translated_one():
    cfg = dict(DBNET, deepspeed=dict(optimizer=dict(type="AdamW", params=dict(lr="auto"))))
    result = translate(cfg, world_size=1)
    assert result.ds_config["optimizer"] == {"type": "adamw",
                                             "params": {"lr": 0.007, "torch_adam": True}}
    assert ("optimizer.type: deepspeed sets 'AdamW', the config gives 'SGD' (from optimizer.type);"
            " using deepspeed's optimizer entirely") in "\n".join(result.notes)


def test_user_optimizer_without_config_optimizer():
    cfg = dict(data=dict(samples_per_gpu=2),
               deepspeed=dict(optimizer=dict(type="SGD", params=dict(lr=0.1))))
    assert translate(cfg, world_size=1).ds_config["optimizer"] == {"type": "SGD",
                                                                   "params": {"lr": 0.1}}


def test_auto_precision_flags_from_hf_style_files_mean_off():
    hf = {"fp16": {"enabled": "auto", "loss_scale": 0}, "bf16": {"enabled": "auto"},
          "train_batch_size": "auto", "train_micro_batch_size_per_gpu": "auto",
          "gradient_accumulation_steps": "auto", "gradient_clipping": "auto"}
    ds = translate(DBNET, world_size=1, ds_overrides=hf).ds_config
    assert ds["fp16"]["enabled"] is False and ds["bf16"] == {"enabled": False}
    assert ds["train_batch_size"] == 16 and ds["gradient_clipping"] == 0.0


def test_zero_untested_flag_note():
    cfg, kwargs = case("zero2_sgd_untested")
    notes = _notes(cfg, **kwargs)
    assert "zero_allow_untested_optimizer: true ('SGD'" in notes


def test_fp16_hook_without_loss_scale_uses_mmcv_default():
    cfg = dict(DBNET, optimizer_config=dict(type="Fp16OptimizerHook", grad_clip=None))
    result = translate(cfg, world_size=1, accelerator="cuda")
    assert result.ds_config["fp16"] == {"enabled": True, "loss_scale": 512.0}
    assert "mmcv's default static scale 512" in "\n".join(result.notes)


def test_bf16_disabled_writes_no_section():
    ds = translate(dict(DBNET, bf16=dict(enabled=False)), world_size=1).ds_config
    assert "bf16" not in ds


def test_user_can_turn_off_config_fp16_explicitly_on_cpu():
    cfg = dict(DBNET, fp16=dict(loss_scale=512.), deepspeed=dict(fp16=dict(enabled=False)))
    result = translate(cfg, world_size=1)
    assert result.ds_config["fp16"]["enabled"] is False
    assert "fp16.enabled: deepspeed sets False, the config gives True" in "\n".join(result.notes)


def test_table_lists_every_translated_key():
    table = render_markdown_table()
    assert table.startswith("| config key | DeepSpeed key | note |")
    assert len(table.splitlines()) == len(TRANSLATION_TABLE) + 2
    emitted = set()
    for _, cfg, kwargs, _ in CASES:
        ds = translate(cfg, **kwargs).ds_config
        for key, value in ds.items():
            emitted.add(key)
            if key in ("fp16", "bf16", "torch_autocast"):
                emitted.update(f"{key}.{sub}" for sub in value)
        emitted.update(f"optimizer.params.{p}" for p in ("adam_w_mode", "torch_adam")
                       if p in ds["optimizer"]["params"])
    missing = sorted(key for key in emitted if key not in table)
    assert not missing, f"not in TRANSLATION_TABLE: {missing}"


def test_import_does_not_import_deepspeed():
    code = ("import sys, ocr_ds.translate as t; "
            "[t.translate(dict(optimizer=dict(type=name, lr=1e-3), fp16=dict(loss_scale=8.), "
            "data=dict(samples_per_gpu=2)), world_size=1, accelerator='cuda') "
            "for name in ('Adam', 'SGD')]; "
            "bad = sorted(m for m in sys.modules "
            "if m == 'deepspeed' or m.startswith('deepspeed.')); "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zero_buffer_notes_give_each_value_and_its_reason():
    cfg, kwargs = case("zero3_medium_model")
    notes = _notes(cfg, **kwargs)
    assert ("zero_optimization: buffer sizes derived from the model (47.7 M trainable parameters "
            "in 40 tensors, largest tensor 9.4 M (backbone.conv5.weight), largest layer 16.8 M "
            "(decoder.rnn)") in notes
    assert ("zero_optimization.reduce_bucket_size: 5966848 (6.0 M): 1/8 of the model, at least "
            "1.0 M: gradients are reduced in that many collectives") in notes
    assert ("zero_optimization.stage3_prefetch_bucket_size: 16793600 (16.8 M): 1/4 of the "
            "model, at least its largest layer: the next layers' parameters gathered in one "
            "collective") in notes
    assert ("zero_optimization.stage3_param_persistence_threshold: 1024 (1.0 k): the tensors of "
            "at most this many elements add up to 21.8 k, within 5% of the model") in notes
    assert ("zero_optimization.stage3_max_reuse_distance: 16793600 (16.8 M): 1/4 of the model, "
            "at least its largest layer: a gathered parameter used again within that many "
            "elements") in notes


def test_zero_buffer_notes_say_which_user_values_were_kept():
    cfg, kwargs = case("zero3_medium_model_user_sizes")
    notes = _notes(cfg, **kwargs)
    assert ("zero_optimization.prefetch_bucket_size: 1000 from deepspeed kept "
            "(derived: 16793600)") in notes
    assert ("zero_optimization.stage3_max_live_parameters: 1000000000 from ds_config kept "
            "(derived: 50380800)") in notes
    assert "zero_optimization.sub_group_size: 5966848 (6.0 M)" in notes   # "auto": derived


def test_zero_buffers_never_exceed_deepspeed_defaults():
    cfg, kwargs = case("zero3_large_model_8gpu")
    notes = _notes(cfg, **kwargs)
    assert ("zero_optimization.stage3_prefetch_bucket_size: 50000000 (50.0 M): DeepSpeed's default "
            "(ours would be larger)") in notes
    # the sizes depend on the model, not on the device
    cfg, kwargs = case("zero3_medium_model")
    on_gpu = translate(cfg, **dict(kwargs, accelerator="cuda")).ds_config["zero_optimization"]
    assert on_gpu == translate(cfg, **kwargs).ds_config["zero_optimization"]


def test_zero_buffers_without_model_facts_are_deepspeed_defaults():
    cfg, kwargs = case("zero3_small_model")
    result = translate(cfg, **dict(kwargs, model_facts=None))
    assert result.ds_config["zero_optimization"] == {"stage": 3}
    assert "buffer sizes left to DeepSpeed's defaults (no model facts" in "\n".join(result.notes)
