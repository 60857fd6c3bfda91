"""Users' own classes: mmcv's ``@TABLE.register_module()`` on ocr_ds's name tables and the
config's ``custom_imports`` (mmcv's ``import_modules_from_strings`` as ``Config.fromfile`` runs
it). The end-to-end test trains MMOCR's CRNN with a backbone, a pipeline step and a hook of the
user's own module on 2 real ranks whose data-loader workers are spawned (so every process finds
the module by name), then tests the checkpoint with ocr_ds/test.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from ocr_ds import registry
from ocr_ds.config import Config
from ocr_ds.errors import UserError
from ocr_ds.extend import NameTable, import_custom_modules, share

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "zoo"))
from tiny_data import make_data  # noqa: E402


class Net(torch.nn.Module):
    pass


def _tables():
    models, parts = NameTable("model", {"A": "x:A"}), NameTable("component", {"B": "x:B"})
    share(models, parts)
    return models, parts


def test_register_module_as_mmcv_registry_does():
    models, parts = _tables()
    assert parts.register_module()(Net) is Net                # a decorator that returns the class
    entry = f"{__name__}:Net"
    assert parts["Net"] == entry and models["Net"] == entry    # one registry for models and parts
    parts.register_module(module=Net)                         # the same class again: no error
    parts.register_module(name=["N1", "N2"], module=Net)
    assert parts["N1"] == parts["N2"] == entry
    with pytest.raises(KeyError, match="A is already registered in the model table"):
        parts.register_module(name="A", module=Net)
    assert models["A"] == "x:A"                               # refused in both, changed in none
    parts.register_module(name="A", force=True, module=Net)
    assert models["A"] == entry
    with pytest.raises(TypeError, match="module must be a class or a function"):
        parts.register_module(module=3)
    with pytest.raises(TypeError, match="force must be a boolean"):
        parts.register_module(force=1)

    def factory():
        class Local:
            pass
        return Local
    local = factory()
    parts.register_module(module=local)
    assert parts["Local"] is local                            # not importable by name: the class


def test_mmocr_registry_names_and_resolve():
    assert registry.DETECTORS is registry.MODELS and registry.NECKS is registry.COMPONENTS
    assert registry.PIPELINES.kind == "pipeline" and registry.HOOKS.kind == "hook"
    try:
        registry.NECKS.register_module(module=Net)
        assert registry.resolve(registry.MODELS, "Net", "model.type") is Net
        assert registry.resolve(registry.COMPONENTS, "Net", "model.neck.type") is Net
    finally:
        del registry.MODELS["Net"], registry.COMPONENTS["Net"]


def test_custom_imports_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    (tmp_path / "raising_ext.py").write_text("import os\n\nraise RuntimeError('half\\ndone')\n")
    (tmp_path / "broken_syntax_ext.py").write_text("def f(:\n")
    cases = [
        (["os"], "custom_imports: expected dict(imports=['module', ...], allow_failed_imports="
         "False) (got ['os'])"),
        (dict(imports=["os"], allowed=True), "custom_imports.allowed: unknown key"),
        (dict(imports=3), "custom_imports.imports: expected a module name or a list of module "
         "names (got 3)"),
        (dict(imports=["os", 3]), "custom_imports.imports.1: expected a module name"),
        (dict(imports=["no_such_ext_9"]), "custom_imports.imports.0: cannot import "
         "'no_such_ext_9' (ModuleNotFoundError: No module named 'no_such_ext_9'; searched "
         "sys.path and "),
        (dict(imports="no_such_ext_9"), "custom_imports.imports: cannot import"),
        (dict(imports=["raising_ext"]), "custom_imports.imports.0: importing 'raising_ext' "
         f"raised RuntimeError: half done ({tmp_path / 'raising_ext.py'}:3)"),
        (dict(imports=["broken_syntax_ext"]), "custom_imports.imports.0: importing "
         "'broken_syntax_ext' raised SyntaxError:"),
    ]
    for spec, message in cases:
        with pytest.raises(UserError) as info:
            import_custom_modules({"custom_imports": spec})
        assert str(info.value).startswith(message), (spec, str(info.value))
        assert "\n" not in str(info.value)
    warned = []
    mods = import_custom_modules({"custom_imports": dict(
        imports=["json", "no_such_ext_9"], allow_failed_imports=True)}, warn=warned.append)
    assert mods == [json, None]
    assert warned == ["custom_imports.imports.1: 'no_such_ext_9' failed to import and is ignored "
                      "(No module named 'no_such_ext_9')"]
    assert import_custom_modules({}) == [] and import_custom_modules(
        {"custom_imports": dict(imports=[])}) == []


USER_MODULE = '''
"""A user's extension of ocr_ds, written as for MMOCR (mmocr.models.builder -> ocr_ds.registry)."""
import json
import os

import torch
from torch import nn

from ocr_ds.engine.hooks.base import Hook
from ocr_ds.registry import BACKBONES, HOOKS, PIPELINES


@BACKBONES.register_module()
class TinyBackbone(nn.Module):
    def __init__(self, in_channels=1, out_channels=32):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d((1, None))

    def forward(self, x):
        return self.pool(torch.relu(self.conv(x)))


@PIPELINES.register_module(name=['MarkSeen', 'MarkSeenAlias'])
class MarkSeen:
    def __init__(self, tag):
        self.tag = tag

    def __call__(self, results):
        with open(os.path.join('marks', f'{self.tag}-{os.getpid()}.txt'), 'a') as f:
            f.write(results['filename'] + '\\n')
        return results


@HOOKS.register_module()
class CountIters(Hook):
    def __init__(self, out):
        self.out, self.seen = out, 0

    def after_train_iter(self, runner):
        self.seen += 1

    def after_run(self, runner):
        with open(f'{self.out}.{runner.rank}.json', 'w') as f:
            json.dump(dict(iters=self.seen, max_iters=runner.max_iters), f)
'''

CONFIG = '''
_base_ = ['{root}/configs/textrecog/crnn/crnn_synth_cpu.py']
custom_imports = dict(imports=['my_ocr_ext'], allow_failed_imports=False)
synth_data = None
mp_start_method = 'spawn'
model = dict(backbone=dict(_delete_=True, type='TinyBackbone', out_channels=32),
             decoder=dict(in_channels=32))
pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='MarkSeen', tag='train'),
    dict(type='ResizeOCR', height=32, min_width=128, max_width=128, keep_aspect_ratio=False),
    dict(type='Normalize', mean=[127], std=[127]),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img'], meta_keys=['filename', 'resize_shape', 'text',
                                                  'valid_ratio']),
]
test_pipeline = [dict(pipeline[0]), dict(type='MarkSeenAlias', tag='test'), *pipeline[2:]]
data = dict(samples_per_gpu=1, workers_per_gpu=1,
            train=dict(datasets=[dict({{{{_base_.train}}}}, pipeline=pipeline)]),
            val=dict(datasets=[dict({{{{_base_.test}}}}, pipeline=test_pipeline)]),
            test=dict(datasets=[dict({{{{_base_.test}}}}, pipeline=test_pipeline)]))
runner = dict(max_epochs=1)
custom_hooks = [dict(type='CountIters', out='counts')]
log_config = dict(interval=1)
'''


def _run(cmd, cwd, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1",
               PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""))
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout[-3000:]}\n" \
                                 f"{proc.stderr[-3000:]}"
    return proc


@pytest.mark.slow
def test_user_module_trains_on_two_ranks_and_tests(tmp_path):
    (tmp_path / "my_ocr_ext.py").write_text(USER_MODULE)
    (tmp_path / "cfg.py").write_text(CONFIG.format(root=ROOT))
    (tmp_path / "marks").mkdir()
    base = Config.fromfile(os.path.join(ROOT, "configs/textrecog/crnn/crnn_synth_cpu.py"))
    make_data(base, str(tmp_path), images_per_set=4)
    train = os.path.join(ROOT, "ocr_ds", "train.py")

    dry = _run([sys.executable, train, "cfg.py", "--dry-run"], tmp_path)
    assert '"train_micro_batch_size_per_gpu": 1' in dry.stdout
    _run([sys.executable, train, "cfg.py", "--gpus", "2", "--work-dir", "wd"], tmp_path)

    # the hook ran on both ranks for the whole run (4 images, 2 ranks, batch 1: 2 iterations)
    for rank in (0, 1):
        counts = json.loads((tmp_path / f"counts.{rank}.json").read_text())
        assert counts == dict(iters=2, max_iters=2)
    # the pipeline step ran, by both names, in the spawned data-loader workers of both ranks
    # (and where the ranks check their data before training): every training image
    marks = list((tmp_path / "marks").iterdir())
    assert {p.name.split("-")[0] for p in marks} == {"test", "train"}
    seen = {line for p in marks if p.name.startswith("train-") for line in p.read_text().split()}
    assert seen == {f"data/synth_recog/train/word_{i}.jpg" for i in range(1, 5)}
    assert len({p.name for p in marks if p.name.startswith("train-")}) >= 2
    # the checkpoint holds the user's backbone, and the dumped config loads back with it
    from ocr_ds.checkpoint_io import load_checkpoint_any

    state, _ = load_checkpoint_any(str(tmp_path / "wd" / "epoch_1"))
    assert state["backbone.conv.weight"].shape == (32, 1, 3, 3)
    assert "backbone.features.0.weight" not in state
    out = _run([sys.executable, os.path.join(ROOT, "ocr_ds", "test.py"), "wd/cfg.py",
                "wd/epoch_1", "--eval", "acc"], tmp_path)
    assert "word_acc" in out.stdout + out.stderr
