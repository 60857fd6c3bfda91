"""mmcv's ``workflow``: training phases, and phases that log the losses on ``data.val``.

MMOCR's configs carry ``workflow = [('train', 1)]``: train only. ``[('train', 1), ('val', 1)]``
alternates, as mmcv 1.x's runners do, one training epoch with one *val* epoch: the model, in eval
mode and without gradients, computes its training losses (``forward(batch, return_loss=True)``,
mmcv's ``val_step``) over a second dataset, which MMOCR's ``tools/train.py`` builds as a copy of
``data.val`` with the *training* pipeline (so the losses have their targets); the loss averages
go to the logs as a ``val`` record (``Epoch(val) [E][N]\\tloss_x: ..., loss: ...``). With an
``IterBasedRunner`` the counts are iterations: ``[('train', 500), ('val', 20)]`` runs 500
training iterations, then 20 val iterations (one record), and so on.

The run length counts training only (``max_epochs`` / ``max_iters``). As in mmcv, the loop goes
through the workflow while training is not done; a training phase ends early at the run's end,
a val phase never does (``[('train', 1), ('val', 1)]`` ends with a val epoch, ``[('val', 1),
('train', 1)]`` starts with one and ends with training).

Accepted forms: one ``('train', N)`` phase and at most one ``('val', M)`` phase, in either
order (MMOCR pairs the phases with its two datasets by position; a second phase of one kind
would run on the other's data, and a workflow without training never ends in mmcv). A
resumed run goes on where the checkpoint stood in the workflow (a val phase due right after the
checkpoint's training runs first); mmcv starts the list again from its first phase.

The val phase's loader takes the training loader's settings (MMOCR's), its own sampler seeded
as the training one (set to the epoch count in an epoch-based run, as mmcv's
``DistSamplerSeedHook``; in an iteration-based run it runs on through the set, reshuffled each
time round, and a resumed run takes up the batches where the whole run would). Each batch's
losses are summed on the device, weighted by the batch's samples (mmcv's ``LogBuffer``): no host
synchronisation per step; the averages are read back, and averaged over ranks as the training
losses are, once at the end of the phase. A stop asked during a val phase acts at the first sync
point of the training after it (as one asked during an evaluation).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from ocr_ds.errors import UserError, bad_value

MODES = ("train", "val")
EXAMPLE = "[('train', 1)] or [('train', 1), ('val', 1)]"


@dataclass(frozen=True)
class Workflow:
    """A checked workflow: ``(mode, count)`` phases, one 'train', at most one 'val'."""

    phases: tuple[tuple[str, int], ...] = (("train", 1),)

    @property
    def has_val(self) -> bool:
        return any(mode == "val" for mode, _ in self.phases)

    def __str__(self) -> str:
        return repr(list(self.phases))


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def parse_workflow(cfg: Mapping[str, Any]) -> Workflow:
    """The config's ``workflow`` (absent: ``[('train', 1)]``), checked; one-line errors."""
    if "workflow" not in cfg:
        return Workflow()
    value = cfg["workflow"]
    if not isinstance(value, (list, tuple)) or not value:
        raise bad_value("workflow", value, f"a non-empty list of (mode, count) pairs, e.g. "
                                           f"{EXAMPLE}")
    phases = []
    for i, phase in enumerate(value):
        if not isinstance(phase, (list, tuple)) or len(phase) != 2:
            raise bad_value(f"workflow.{i}", phase, "a (mode, count) pair such as ('val', 1)")
        mode, count = phase
        if mode not in MODES:
            raise bad_value(f"workflow.{i}.0", mode, "'train' or 'val'")
        if not _positive_int(count):
            raise bad_value(f"workflow.{i}.1", count, "a positive integer (epochs; iterations "
                                                      "with an IterBasedRunner)")
        phases.append((mode, count))
    modes = [mode for mode, _ in phases]
    if "train" not in modes:
        raise UserError(f"workflow: expected a ('train', N) phase (got {list(value)!r}); "
                        "without one the run never ends (mmcv loops forever)")
    if len(phases) > 2 or modes.count("train") > 1 or modes.count("val") > 1:
        raise UserError(f"workflow: expected one ('train', N) phase and at most one ('val', M) "
                        f"phase, e.g. {EXAMPLE} (got {list(value)!r}); MMOCR pairs the phases "
                        "with its two datasets (data.train, then data.val) by position, so a "
                        "further phase would run on the wrong data or none")
    return Workflow(tuple(phases))


def _train_pipeline(train: Any) -> Any:
    """The pipeline MMOCR's tools/train.py takes from ``data.train`` for the val phase."""
    if isinstance(train, (list, tuple)):  # a list of datasets (concatenated)
        train = {"datasets": list(train)}
    if not isinstance(train, Mapping):
        return None
    pipeline = train.get("pipeline")
    if pipeline is None:  # the first member's
        members = train.get("datasets")
        if not isinstance(members, (list, tuple)) or not members:
            return None
        first = members[0]
        if isinstance(first, (list, tuple)):  # a 2-D list (UniformConcatDataset)
            first = first[0] if first else None
        pipeline = first.get("pipeline") if isinstance(first, Mapping) else None
    elif isinstance(pipeline, (list, tuple)) and pipeline and all(
            isinstance(p, (list, tuple)) for p in pipeline):  # one pipeline per dataset list
        return list(pipeline[0])
    return list(pipeline) if isinstance(pipeline, (list, tuple)) else None


def _as_training(spec: Any, pipeline: Any) -> Any:
    """``spec`` (a dataset dict, or a list of them) with ``pipeline`` and ``test_mode=False``
    on every dataset; the members of a concatenation get them, as MMOCR sets them. Without a
    training pipeline (a dataset class that has none, as the engine tests' toy one) the
    datasets keep theirs."""
    if isinstance(spec, (list, tuple)):
        return [_as_training(member, pipeline) for member in spec]
    if not isinstance(spec, Mapping):
        return spec
    spec = dict(spec)
    if spec.get("type") in ("ConcatDataset", "UniformConcatDataset"):
        spec["datasets"] = _as_training(spec.get("datasets") or [], pipeline)
        if spec.get("pipeline") is not None and pipeline is not None:
            spec["pipeline"] = copy.deepcopy(pipeline)  # force_apply puts it over the members'
        return spec
    if pipeline is not None:
        spec["pipeline"] = copy.deepcopy(pipeline)
    spec["test_mode"] = False
    return spec


def val_loss_spec(cfg: Mapping[str, Any]) -> Any:
    """The dataset config of the val phase: ``data.val`` with ``data.train``'s pipeline
    (MMOCR's ``tools/train.py``), built as training data (``test_mode=False``)."""
    data = cfg.get("data") if isinstance(cfg.get("data"), Mapping) else {}
    val = data.get("val")
    if val is None:
        raise UserError("data.val: expected a dataset dict for the workflow's 'val' phase, "
                        "which computes the losses on it (got nothing)")
    pipeline = _train_pipeline(data.get("train"))
    if isinstance(val, (list, tuple)):
        val = {"type": "ConcatDataset", "datasets": list(val)}
    return _as_training(copy.deepcopy(val), pipeline)


def build_val_loss_dataset(cfg: Mapping[str, Any]) -> Any:
    from ocr_ds import registry

    return registry.build(registry.DATASETS, val_loss_spec(cfg), "data.val")


# -- the schedule ---------------------------------------------------------------------------------
def phases(workflow: Workflow | None, progress: Callable[[], int], limit: int,
           inside_unit: bool = False) -> Iterator[tuple[str, int]]:
    """mmcv's loop (``EpochBasedRunner.run`` / ``IterBasedRunner.run``) as a sequence:
    ``('train', 1)`` for each training unit (an epoch, or an iteration of an iteration-based
    run) and ``('val', M)`` for each val phase, while ``progress()`` (the training units done,
    read afresh at each step) is below ``limit`` at the start of a round through the workflow.

    Resumed (``progress() > 0`` at the start), it begins where an uninterrupted run stood after
    that many units: inside a training phase, or at the val phase that follows one (not when
    ``inside_unit``: a run resumed inside an epoch had run that val phase before the epoch).
    """
    flow = (workflow or Workflow()).phases
    ti = next(i for i, (mode, _) in enumerate(flow) if mode == "train")
    n = flow[ti][1]
    start, offset = 0, 0
    done = progress()
    if done or inside_unit:
        rest = done % n
        if rest or inside_unit:
            start, offset = ti, rest
        elif ti == 0 and len(flow) > 1:
            start = 1  # the val phase after this training phase
    partial = (start, offset) != (0, 0)
    while partial or progress() < limit:
        for j in range(start, len(flow)):
            mode, count = flow[j]
            if mode == "val":
                yield mode, count
                continue
            for _ in range(offset, count):
                if progress() >= limit:
                    break
                yield mode, 1
            offset = 0
        start, partial = 0, False


def val_phases_done(workflow: Workflow | None, done: int, inside_unit: bool = False) -> int:
    """How many val phases an uninterrupted run had run when ``done`` training units were done
    (not counting one due right then, with which :func:`phases` begins)."""
    flow = (workflow or Workflow()).phases
    if len(flow) == 1:
        return 0
    n = next(count for mode, count in flow if mode == "train")
    if flow[0][0] == "train":  # a val phase after each whole training phase
        return done // n if inside_unit else max(0, (done - 1) // n)
    # a val phase before each training phase
    return done // n + (1 if inside_unit or done % n else 0)


# -- the val phase --------------------------------------------------------------------------------
def _sized(loader: Any, epoch: int, skip: int = 0) -> Iterator[tuple[Any, int]]:
    """One pass over ``loader`` (its sampler set to ``epoch``, the first ``skip`` batches left
    out): ``(batch, samples in it)``."""
    loader.sampler.set_epoch(epoch, skip * loader.batch_size)
    left = len(loader.sampler)
    for batch in loader:
        size = min(loader.batch_size, left)
        left -= size
        yield batch, size


def _stream(loader: Any, start: int = 0) -> Iterator[tuple[Any, int]]:
    """``loader`` round and round (mmcv's ``IterLoader``: the sampler's epoch counts the rounds),
    from its ``start``-th batch on (a resumed run: the batches the run had taken before)."""
    epoch, skip = divmod(start, len(loader))
    while True:
        yield from _sized(loader, epoch, skip)
        epoch, skip = epoch + 1, 0


def run_val(runner: Any, count: int) -> None:
    """One val phase: ``count`` val epochs (epoch-based run, one record each) or ``count`` val
    iterations (iteration-based, one record), hooks ``before_val_epoch``, ``before_val_iter``,
    ``after_val_iter``, ``after_val_epoch`` (the logger writes the record there)."""
    if runner.by_epoch:
        for _ in range(count):
            _val_pass(runner, _sized(runner.val_loader, runner.epoch), len(runner.val_loader))
    else:
        if runner.val_stream is None:  # on from where the run's earlier val phases left it
            runner.val_stream = _stream(runner.val_loader, runner.val_phases_done * count)
        _val_pass(runner, runner.val_stream, count)


def _val_pass(runner: Any, batches: Iterator[tuple[Any, int]], count: int) -> None:
    import torch

    from ocr_ds.engine.runner import parse_losses

    train_inner = runner.inner_iter
    runner.mode = "val"
    runner.val_buffer.clear()
    runner.val_losses = {}
    runner.model.eval()
    try:
        runner.call("before_val_epoch")
        for i in range(count):
            batch, size = next(batches)
            runner.inner_iter = i
            runner.call("before_val_iter")
            with torch.no_grad():
                losses = runner.engine(runner.to_device(batch))
            _, log_vars = parse_losses(losses)
            for name, value in log_vars.items():
                total, seen = runner.val_losses.get(name, (0.0, 0))
                runner.val_losses[name] = (total + value.double() * size, seen + size)
            runner.call("after_val_iter")
        runner.call("after_val_epoch")
    finally:
        runner.mode = "train"
        runner.inner_iter = train_inner
        runner.model.train()


def val_loss_means(runner: Any) -> dict[str, float]:
    """This val phase's losses: per name the sample-weighted mean over its batches (one read
    back), averaged over ranks (every rank ran as many batches of as many samples)."""
    import torch

    from ocr_ds.engine import dist

    names = list(runner.val_losses)
    if not names:
        return {}
    totals = torch.stack([torch.as_tensor(runner.val_losses[k][0], dtype=torch.float64)
                          .reshape(()) for k in names]).tolist()
    means = {k: t / runner.val_losses[k][1] for k, t in zip(names, totals)}
    runner.val_losses = {}
    return dist.all_reduce_mean(means)
