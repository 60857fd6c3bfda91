"""The training loop: epochs (or iterations) of ``forward / backward / step`` between hooks.

The loop is deliberately short; everything else (lr, timing, checkpoints, evaluation, logs) is a
hook in one ordered list. State the hooks read lives on the :class:`Runner` as plain attributes:

* ``epoch``: completed epochs (0-based index of the running epoch), as mmcv's ``runner.epoch``;
* ``iter``: completed training iterations over the whole run (one iteration = one micro-batch,
  as in mmcv, also under gradient accumulation);
* ``inner_iter``: index of the running iteration within its epoch;
* ``iters_per_epoch``, ``max_epochs`` (None for iteration-based runs), ``max_iters``;
* ``log_buffer``: named scalars of the current logging interval (losses, time, ...);
* ``val_metrics``: metrics of an evaluation that just ran, for the writers; cleared afterwards;
* ``mode``: ``'train'``, or ``'val'`` during a val phase of the ``workflow``
  (:mod:`ocr_ds.engine.workflow`), whose values ``put`` sends to ``val_buffer`` and whose losses
  add up in ``val_losses``;
* ``stop_reason``: why the ranks agreed to stop (a signal, a launcher gone: see
  :mod:`ocr_ds.engine.stop`); the loop then ends after the running iteration (or, at the last
  iteration of an epoch, after that epoch's hooks), the hooks' ``on_stop`` save a checkpoint, and
  :class:`~ocr_ds.engine.stop.Stopped` is raised.


A training step issues no host synchronisation and no collective of its own (on a GPU the
kernels of the next steps queue behind it): the losses stay tensors until the logger reads
them, and whether they were finite is decided by :meth:`Runner.check_finite` at the points
where the ranks meet anyway — every logging iteration, before every checkpoint and evaluation,
at the end, and every ``stop_check_interval`` iterations (below) — with one all-reduce for all
the iterations since the last check. A non-finite
loss therefore still stops every rank before a checkpoint of its weights is written, and the
message names the iteration it happened at.

The same all-reduce carries the stop request (a signal, the launcher gone): the ranks agree to
stop at a sync point, so all of them stop after the same iteration. ``stop_check_interval``
(config key) adds a sync point every that many iterations: 1 stops right after the running
iteration and costs one small all-reduce and host sync per step; the log interval (or more)
leaves a step with no collective of its own, and a stop then acts at the next sync point.
``'auto'`` (the default) adds one about every :data:`~ocr_ds.engine.stop.AUTO_CHECK_SECONDS`
of training steps: at each sync point every rank offers the number of iterations that took
about that long since the previous one, and the same all-reduce agrees on the smallest, so a
stop acts within seconds while fast steps (a GPU's) run many at a time without a collective.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterator, Sequence

import torch

from ocr_ds.engine import dist, stop, workflow as wf
from ocr_ds.engine.hooks.base import Hook
from ocr_ds.errors import TrainingFault


def parse_losses(losses: dict[str, Any]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """mmcv's ``parse_losses``: sum every entry whose name contains 'loss'."""
    if not isinstance(losses, dict):
        raise TypeError(f"model forward must return a dict of losses in training, got {type(losses)}")
    log_vars: dict[str, torch.Tensor] = {}
    for name, value in losses.items():
        if isinstance(value, torch.Tensor):
            log_vars[name] = value.mean()
        elif isinstance(value, (list, tuple)):
            log_vars[name] = sum(v.mean() for v in value)
        else:
            raise TypeError(f"{name} is not a tensor or a list of tensors")
    loss = sum(v for k, v in log_vars.items() if "loss" in k)
    log_vars["loss"] = loss
    return loss, {k: v.detach() for k, v in log_vars.items()}


def to_device(batch: dict[str, Any], device: torch.device, dtype: torch.dtype | None,
              channels_last: bool = False) -> dict[str, Any]:
    """Move the batch's tensors to ``device``; float ones to ``dtype`` (a half-precision module);
    the 4-D ``img`` to channels-last memory format if asked (``channels_last=True``)."""
    out = {}
    for key, value in batch.items():
        if isinstance(value, torch.Tensor):
            value = value.to(device, non_blocking=True)
            if value.is_floating_point() and dtype is not None:
                value = value.to(dtype)
            if channels_last and key == "img" and value.dim() == 4:
                value = value.contiguous(memory_format=torch.channels_last)
        out[key] = value
    return out


class NonFiniteLoss(TrainingFault):
    """The loss became NaN or inf; training stops with the last good checkpoint intact."""


def interval_means(buffer: dict[str, list]) -> dict[str, float]:
    """The mean of each key's values; tensors are summed where they are and read back in one
    transfer per device (one host sync per logging iteration, not one per value)."""
    sums: dict[str, float] = {}
    on_device: dict[torch.device, list[tuple[str, torch.Tensor]]] = {}
    for key, values in buffer.items():
        sums[key] = sum(float(v) for v in values if not isinstance(v, torch.Tensor))
        tensors = [v.detach().reshape(()).double() for v in values if isinstance(v, torch.Tensor)]
        if tensors:
            on_device.setdefault(tensors[0].device, []).append((key, torch.stack(tensors).sum()))
    for parts in on_device.values():
        for (key, _), total in zip(parts, torch.stack([t for _, t in parts]).tolist()):
            sums[key] += total
    return {key: sums[key] / len(values) for key, values in buffer.items() if values}


class Runner:
    """Holds the loop state and calls hooks. Built by :mod:`ocr_ds.engine.train`."""

    def __init__(self, *, engine: Any, train_loader: Any, hooks: Sequence[Hook], work_dir: str,
                 max_epochs: int | None, max_iters: int, iters_per_epoch: int,
                 logger: logging.Logger, meta: dict[str, Any], input_dtype: torch.dtype | None,
                 device: torch.device, timestamp: str, cfg: Any,
                 evaluate: Callable[[], dict[str, float]] | None = None,
                 channels_last: bool = False, stop_check_interval: int | str = "auto",
                 workflow: wf.Workflow | None = None, val_loader: Any = None):
        self.engine = engine
        self.model = engine.module
        self.train_loader = train_loader
        self.hooks = list(hooks)
        self.work_dir = work_dir
        self.by_epoch = max_epochs is not None
        self.max_epochs = max_epochs
        self.max_iters = max_iters
        self.iters_per_epoch = iters_per_epoch
        self.logger = logger
        self.meta = meta
        self.input_dtype = input_dtype
        self.channels_last = channels_last
        self.stop_check_interval = stop_check_interval
        self.device = device
        self.timestamp = timestamp
        self.cfg = cfg
        self.evaluate = evaluate
        self.workflow = workflow or wf.Workflow()
        self.val_loader = val_loader  # the workflow's val phase (data.val, training pipeline)
        self.val_stream: Any = None  # an iteration-based run's val batches, round and round
        self.val_phases_done = 0  # before this run (resumed): where val_stream starts
        self.mode = "train"
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()  # as mmcv's runner
        self.epoch = 0
        self.iter = 0
        self.inner_iter = 0
        self.log_buffer: dict[str, list[float]] = {}
        self.val_buffer: dict[str, list[float]] = {}
        self.val_losses: dict[str, tuple[Any, int]] = {}
        self.val_metrics: dict[str, float] | None = None
        self.skipped_steps = 0
        self.stop_reason: str | None = None
        self.stop_checkpoint: str | None = None  # set by the hook that saves on a stop
        # (iteration, epoch, loss) of the steps since the last check_finite, losses on device
        self._unchecked: list[tuple[int, int, torch.Tensor]] = []
        # 'auto': the iteration count at which the ranks meet next (agreed at each sync point;
        # the first right after the first iteration), and when the last sync point was
        self._next_check = 1
        self._checked_at = time.perf_counter()

    # -- state ---------------------------------------------------------------------------------
    @property
    def optimizer(self) -> Any:
        return self.engine.optimizer

    def current_lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def put(self, name: str, value: float | torch.Tensor) -> None:
        """Add one value to this interval's buffer (averaged by the logger); in a val phase
        to that phase's."""
        (self.val_buffer if self.mode == "val" else self.log_buffer).setdefault(
            name, []).append(value)

    def call(self, stage: str) -> None:
        for hook in self.hooks:
            getattr(hook, stage)(self)

    def check_finite(self) -> None:
        """Raise :class:`NonFiniteLoss` on every rank if any rank had a NaN/inf loss since the
        last check, and set ``stop_reason`` on every rank if a stop was asked on any. Collective:
        called by every rank at the same points (the logger, before a checkpoint or an
        evaluation, every ``stop_check_interval`` iterations, at the end of the run); costs
        nothing when no step ran since the last check."""
        pending, self._unchecked = self._unchecked, []
        offer = 0
        if self.stop_check_interval == "auto" and pending:
            now = time.perf_counter()
            offer = stop.auto_interval(len(pending), now - self._checked_at)
            self._checked_at = now
        bad, stopping, agreed = dist.first_nonfinite([loss for _, _, loss in pending],
                                                     stop.requested() is not None, offer)
        if agreed:  # after the last step checked (pending[-1][0] iterations done)
            self._next_check = pending[-1][0] + agreed
        if stopping and self.stop_reason is None:  # once: which ranks were asked, and why
            self.stop_reason = stop.describe(dist.all_gather_object(stop.requested()))
        if bad is not None:
            index, rank, value = bad
            it, epoch, _ = pending[index]
            raise NonFiniteLoss(f"loss is not finite ({value} on rank {rank}) at iteration {it} "
                                f"(epoch {epoch}); stopping. The last checkpoint in "
                                f"{self.work_dir} is intact")

    # -- the loop -------------------------------------------------------------------------------
    def run(self, skip_samples: int = 0) -> None:
        """Train until ``max_epochs``/``max_iters``, with the workflow's val phases;
        ``skip_samples`` resumes inside an epoch."""
        self.call("before_run")
        try:
            steps = self._train_steps(skip_samples)
            progress = (lambda: self.epoch) if self.by_epoch else (lambda: self.iter)
            limit = self.max_epochs if self.by_epoch else self.max_iters
            inside = self.by_epoch and skip_samples > 0  # resumed inside an epoch
            self.val_phases_done = wf.val_phases_done(self.workflow, progress(), inside)
            for mode, count in wf.phases(self.workflow, progress, limit, inside):
                if mode == "val":
                    wf.run_val(self, count)
                elif self.by_epoch:
                    for epoch_ended in steps:  # one epoch
                        if epoch_ended:
                            break
                else:
                    next(steps)  # one iteration
            self.check_finite()  # the last iterations' losses, had no hook checked them
        finally:
            self.call("after_run")

    def _train_steps(self, skip_samples: int = 0) -> Iterator[bool]:
        """Training, one iteration per ``next()``, epoch after epoch (the epoch hooks around);
        yields whether the iteration ended an epoch (then after that epoch's hooks)."""
        while True:
            loader = self.train_loader
            loader.sampler.set_epoch(self.epoch, skip_samples)
            self.model.train()
            first = skip_samples // loader.batch_size
            skip_samples = 0
            self.inner_iter = first
            self.call("before_train_epoch")
            last = first + len(loader) - 1
            for i, batch in enumerate(loader, start=first):
                self.inner_iter = i  # as mmcv: the running iteration's index, kept after the loop
                self.call("before_train_iter")
                self.train_step(batch)
                self.call("after_train_iter")
                if self._sync_point():
                    self.check_finite()  # a sync point: NaN/inf anywhere, a stop asked anywhere
                finished = not self.by_epoch and self.iter + 1 >= self.max_iters
                if self.stop_reason and i < last and not finished:
                    self.stop(after_epoch=False)
                self.iter += 1
                if finished:
                    break
                if i < last:
                    yield False
            self.call("after_train_epoch")
            if self.stop_reason and not (self.epoch + 1 >= self.max_epochs if self.by_epoch
                                         else self.iter >= self.max_iters):
                # asked at the last iteration of an epoch: its evaluation and checkpoint ran first
                self.stop(after_epoch=True)
            self.epoch += 1
            yield True

    def _sync_point(self) -> bool:
        """Whether the iteration that just ran ends at a stop_check_interval sync point."""
        if self.stop_check_interval == "auto":
            return self.iter + 1 >= self._next_check
        return (self.iter + 1) % self.stop_check_interval == 0

    def stop(self, after_epoch: bool) -> None:
        """Every rank: let the hooks save (``on_stop``), then end the run with ``Stopped``."""
        done = self.iter + (0 if after_epoch else 1)
        self.logger.warning("stopping after iteration %d (epoch %d): %s", done, self.epoch + 1,
                            self.stop_reason)
        for hook in self.hooks:
            hook.on_stop(self, after_epoch)
        raise stop.Stopped(self.stop_reason or "", self.stop_checkpoint, done)

    def to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        return to_device(batch, self.device, self.input_dtype, self.channels_last)

    def train_step(self, batch: dict[str, Any]) -> None:
        engine = self.engine
        losses = engine(self.to_device(batch))
        loss, log_vars = parse_losses(losses)
        # checked for NaN/inf later, at the next sync point (see check_finite), not here
        self._unchecked.append((self.iter + 1, self.epoch + 1, log_vars["loss"]))
        engine.backward(loss)
        clipping = engine.gradient_clipping() > 0
        own_norm = None
        if clipping and engine.is_gradient_accumulation_boundary() and not (
                engine.zero_optimization() or engine.fp16_enabled() or engine.bfloat16_enabled()):
            # DeepSpeed clips plain fp32 gradients itself but does not keep the norm: measure
            # it, as a tensor (the logger reads it back with the losses)
            grads = [p.grad for p in self.model.parameters() if p.grad is not None]
            own_norm = torch.linalg.vector_norm(torch.stack(
                [torch.linalg.vector_norm(g.float()) for g in grads])) if grads else 0.0
            # fp16 autocast without ZeRO: DeepSpeed's GradScaler scaled these gradients and
            # unscales them inside engine.step() (which updates the scale in place): divide by
            # this step's scale now, as a tensor, to log the norm that is clipped
            scaler = getattr(engine, "torch_autocast_z0_gradscaler", None)
            scale = scaler._get_scale_async() if scaler is not None else None
            if grads and scale is not None:
                own_norm = own_norm / scale.float()
        skipped_before = engine.skipped_steps
        engine.step()
        for name, value in log_vars.items():
            self.put(name, value)
        if engine.skipped_steps > skipped_before:
            self.skipped_steps += 1
            if engine.fp16_enabled():
                # ZeRO's optimizers name it cur_scale, ZeRO-0's FP16_(Unfused)Optimizer loss_scale
                scale = getattr(engine.optimizer, "cur_scale", None)
                self.logger.warning("fp16 gradient overflow (inf/nan) at iteration %d: step "
                                    "skipped, loss scale now %s", self.iter + 1,
                                    scale if scale is not None
                                    else getattr(engine.optimizer, "loss_scale", "?"))
            else:
                self.logger.warning("bf16 gradient overflow (inf/nan) at iteration %d: step "
                                    "skipped", self.iter + 1)
        if clipping and engine.was_step_applied():
            norm = own_norm if own_norm is not None else engine.get_global_grad_norm()
            if norm is not None:
                self.put("grad_norm", norm)
