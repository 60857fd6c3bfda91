"""The ``workflow`` key (mmcv's runners): which phase runs when, epoch- and iteration-based,
against mmcv 1.7.2's own ``EpochBasedRunner`` / ``IterBasedRunner``; where a resumed run goes on;
how a val phase averages its losses; the checks of the value.

Our side runs the real :class:`~ocr_ds.engine.runner.Runner` loop with a stand-in for the
DeepSpeed engine (forward, backward and step of a one-parameter model) and real loaders."""
from __future__ import annotations

import logging

import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.engine import workflow as wf
from ocr_ds.engine.data import build_loader
from ocr_ds.engine.hooks.base import Hook
from ocr_ds.engine.hooks.logger import LoggerHook
from ocr_ds.engine.runner import Runner
from ocr_ds.errors import UserError
from parity import ref_file

REF = ref_file(__file__, "mmocr_workflow.py")
STAGES = ("before_train_epoch", "before_train_iter", "after_train_iter", "after_train_epoch",
          "before_val_epoch", "before_val_iter", "after_val_iter", "after_val_epoch")
ITER_STAGES = ("before_train_iter", "after_train_iter", "before_val_iter", "after_val_iter")


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))


class Engine(torch.nn.Module):
    """What the Runner uses of a DeepSpeed engine. The loss of a batch is the mean of its
    ``idx`` values; every forward is recorded as mmcv's side records its steps."""

    def __init__(self):
        super().__init__()
        self.module = Model()
        self.optimizer = torch.optim.SGD(self.module.parameters(), lr=0.1)
        self.skipped_steps = 0
        self.runner = None
        self.steps: list = []

    def forward(self, batch, return_loss=True):
        self.steps.append((self.runner.mode, batch["idx"].tolist(), self.module.training,
                           torch.is_grad_enabled()))
        return {"loss_idx": batch["idx"].double().mean() + 0 * self.module.w.sum()}

    def backward(self, loss):
        pass

    def gradient_clipping(self):
        return 0.0

    def step(self):
        pass


class Recorder(Hook):
    def __init__(self):
        self.calls: list = []


def _recording(stage):
    def call(self, runner):
        self.calls.append((stage, runner.mode, runner.epoch, runner.iter, runner.inner_iter))
    return call


for _stage in STAGES:
    setattr(Recorder, _stage, _recording(_stage))


def _loader(first: int, n: int, batch: int = 1):
    settings = dict(samples_per_gpu=batch, workers_per_gpu=0, shuffle=False, drop_last=False)
    return build_loader([{"idx": torch.tensor(first + i)} for i in range(n)], settings, rank=0,
                        world_size=1, seed=0, device=torch.device("cpu"))


def run_ours(workflow, by_epoch, limit, n_train, n_val, hooks=(), val_batch=1):
    engine = Engine()
    train = _loader(0, n_train)
    recorder = Recorder()
    runner = Runner(engine=engine, train_loader=train, hooks=[recorder, *hooks],
                    work_dir="/nonexistent", max_epochs=limit if by_epoch else None,
                    max_iters=limit * len(train) if by_epoch else limit,
                    iters_per_epoch=len(train), logger=logging.getLogger("test_workflow"),
                    meta={}, input_dtype=None, device=torch.device("cpu"), timestamp="t",
                    cfg={}, workflow=wf.parse_workflow({"workflow": workflow}),
                    val_loader=_loader(100, n_val, val_batch))
    engine.runner = runner
    runner.run()
    return recorder.calls, engine.steps, runner


EPOCH_CASES = [dict(workflow=w, by_epoch=True, limit=3, n_train=2, n_val=3) for w in (
    [("train", 1)], [("train", 1), ("val", 1)], [("train", 2), ("val", 1)],
    [("val", 1), ("train", 1)], [("train", 1), ("val", 2)], [("val", 2), ("train", 2)])]
ITER_CASES = [dict(workflow=w, by_epoch=False, limit=7, n_train=3, n_val=2) for w in (
    [("train", 1)], [("train", 3), ("val", 2)], [("train", 2), ("val", 3)],
    [("val", 1), ("train", 4)], [("train", 1), ("val", 1)])]


def _epoch_view(calls):
    # mmcv leaves inner_iter as the last epoch left it until its loop starts: compared per
    # iteration only
    return [c if c[0].endswith("_iter") else c[:4] for c in calls]


def _iter_view(calls):
    # mmcv's IterBasedRunner calls no epoch hooks, counts inner_iter per phase and sets the
    # epoch from its loader before the loader turns over: compared are the iterations, their
    # mode and training iteration, and a val phase's inner_iter
    return [(s, mode, it) + ((inner,) if mode == "val" else ())
            for s, mode, _, it, inner in calls if s in ITER_STAGES]


def test_phases_equal_mmcv_runners(mmocr_ref):
    cases = EPOCH_CASES + ITER_CASES
    theirs = mmocr_ref.call(REF, "run_cases", cases=[
        dict(c, workflow=[list(f) for f in c["workflow"]]) for c in cases])
    for case, (their_calls, their_steps) in zip(cases, theirs):
        calls, steps, _ = run_ours(**case)
        their_steps = [tuple(s) for s in their_steps]
        their_calls = [tuple(c) for c in their_calls]
        assert steps == their_steps, case  # which batches, train/eval mode, autograd on/off
        view = _epoch_view if case["by_epoch"] else _iter_view
        assert view(calls) == view(their_calls), case
        vals = [s for s in steps if s[0] == "val"]
        assert vals and all(not training and not grad for _, _, training, grad in vals) \
            or not any(m == "val" for m, _ in case["workflow"])


def _sequence(workflow, limit, done=0, inside=False):
    """The phases from ``done`` training units on, as the loop takes them."""
    state = {"done": done}
    out = []
    for mode, count in wf.phases(wf.parse_workflow({"workflow": workflow}), lambda: state["done"],
                                 limit, inside):
        out.append((mode, count))
        state["done"] += mode == "train"
    return out


@pytest.mark.parametrize("workflow", [[("train", 1), ("val", 1)], [("train", 2), ("val", 1)],
                                      [("train", 3), ("val", 2)], [("val", 1), ("train", 2)],
                                      [("train", 1)]])
def test_a_resumed_run_goes_on_as_the_whole_run(workflow):
    """Resumed after d training units (at an epoch or iteration boundary), the rest of the run
    is the whole run's sequence after its d-th training unit (a val phase due there first);
    resumed inside an epoch, the sequence from that (d+1-th) epoch on."""
    limit = 7
    whole = _sequence(workflow, limit)
    train_at = [i for i, (mode, _) in enumerate(whole) if mode == "train"]
    assert len(train_at) == limit
    parsed = wf.parse_workflow({"workflow": workflow})
    vals_before = lambda end: sum(mode == "val" for mode, _ in whole[:end])  # noqa: E731
    for done in range(1, limit + 1):
        assert _sequence(workflow, limit, done) == whole[train_at[done - 1] + 1:], done
        # where an iteration-based run's val batches go on from
        assert wf.val_phases_done(parsed, done) == vals_before(train_at[done - 1] + 1), done
    for done in range(limit):
        assert _sequence(workflow, limit, done, inside=True) == whole[train_at[done]:], done
        assert wf.val_phases_done(parsed, done, True) == vals_before(train_at[done]), done
    assert wf.val_phases_done(parsed, 0) == 0


def test_whole_sequences():
    assert _sequence([("train", 2), ("val", 1)], 3) == [
        ("train", 1), ("train", 1), ("val", 1), ("train", 1), ("val", 1)]
    assert _sequence([("val", 2), ("train", 2)], 3) == [
        ("val", 2), ("train", 1), ("train", 1), ("val", 2), ("train", 1)]


class Capture:
    def __init__(self):
        self.records: list = []

    def open(self, runner):
        pass

    def write(self, runner, record):
        self.records.append(dict(record))

    def close(self):
        pass


def test_val_losses_are_averaged_per_sample_over_the_phase():
    """mmcv's LogBuffer weights each batch by its samples: 5 samples in batches of 2, 2, 1
    (idx 100..104, loss = the batch's mean idx) average to 102, not to the batches' 102.33."""
    capture = Capture()
    logger = LoggerHook([capture], interval=100)
    _, _, runner = run_ours([("train", 1), ("val", 1)], True, 2, 2, 5, hooks=[logger], val_batch=2)
    val = [r for r in capture.records if r["mode"] == "val"]
    assert [(r["epoch"], r["iter"]) for r in val] == [(1, 3), (2, 3)]
    for r in val:
        assert r["loss_idx"] == pytest.approx(102.0) and r["loss"] == pytest.approx(102.0)
        assert list(r)[:4] == ["mode", "epoch", "iter", "lr"]
    # the training interval's buffer kept only training losses (idx 0, 1), the val phase's own
    assert max(float(v) for v in runner.log_buffer["loss_idx"]) < 2 and runner.val_buffer == {}


def test_an_iteration_run_logs_one_record_per_val_phase():
    capture = Capture()
    logger = LoggerHook([capture], interval=100, by_epoch=False)
    run_ours([("train", 3), ("val", 2)], False, 7, 3, 3, hooks=[logger])
    val = [r for r in capture.records if r["mode"] == "val"]
    # val batches 100, 101 | 102, 100 | 101, 102 (round and round), after iterations 3, 6, 7
    assert [r["iter"] for r in val] == [3, 6, 7]
    assert [r["loss_idx"] for r in val] == pytest.approx([100.5, 101.0, 101.5])


@pytest.mark.parametrize("value,message", [
    ("train", "workflow: expected a non-empty list of (mode, count) pairs"),
    ([], "workflow: expected a non-empty list"),
    ([("train", 1), "val"], "workflow.1: expected a (mode, count) pair such as ('val', 1) (got 'val')"),
    ([("train", 1, 2)], "workflow.0: expected a (mode, count) pair"),
    ([("train", 1), ("test", 1)], "workflow.1.0: expected 'train' or 'val' (got 'test')"),
    ([("train", 0)], "workflow.0.1: expected a positive integer"),
    ([("train", 1), ("val", 1.5)], "workflow.1.1: expected a positive integer"),
    ([("train", True)], "workflow.0.1: expected a positive integer"),
    ([("val", 1)], "workflow: expected a ('train', N) phase"),
    ([("train", 1), ("val", 1), ("train", 1)], "workflow: expected one ('train', N) phase and at most one"),
    ([("train", 1), ("val", 1), ("val", 1)], "workflow: expected one ('train', N) phase and at most one"),
])
def test_bad_workflows_are_one_line_errors(value, message):
    with pytest.raises(UserError) as exc:
        wf.parse_workflow({"workflow": value})
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def test_forms_accepted_and_default():
    assert wf.parse_workflow({}).phases == (("train", 1),)
    assert wf.parse_workflow({"workflow": [["val", 2], ["train", 3]]}).phases == (
        ("val", 2), ("train", 3))  # JSON/YAML configs have no tuples


def test_val_dataset_is_data_val_with_the_training_pipeline():
    train_pipe = [dict(type="LoadImageFromFile"), dict(type="Train")]
    test_pipe = [dict(type="LoadImageFromFile"), dict(type="Test")]
    cfg = Config(dict(data=dict(
        train=dict(type="UniformConcatDataset", datasets=[dict(type="OCRDataset")],
                   pipeline=train_pipe),
        val=dict(type="UniformConcatDataset", pipeline=test_pipe, datasets=[
            dict(type="OCRDataset", ann_file="a", pipeline=None, test_mode=True),
            dict(type="OCRDataset", ann_file="b", pipeline=None)]))))
    spec = wf.val_loss_spec(cfg)
    assert [m["pipeline"] for m in spec["datasets"]] == [train_pipe, train_pipe]
    assert [m["test_mode"] for m in spec["datasets"]] == [False, False]
    assert spec["pipeline"] == train_pipe  # not the test pipeline, even with force_apply
    assert cfg.data.val.datasets[0].pipeline is None  # the config is left as it was
    # data.train without a pipeline of its own: its first member's (MMOCR's rule)
    cfg.data.train = dict(type="ConcatDataset", datasets=[dict(type="A", pipeline=train_pipe)])
    cfg.data.val = dict(type="OCRDataset", pipeline=test_pipe)
    assert wf.val_loss_spec(cfg)["pipeline"] == train_pipe
    with pytest.raises(UserError, match=r"^data.val: expected a dataset dict for the "
                                        r"workflow's 'val' phase"):
        wf.val_loss_spec(Config(dict(data=dict(train=dict(type="A")))))
