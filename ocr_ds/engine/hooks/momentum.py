"""Write the scheduled momentum into the optimizer before every iteration (``momentum_config``).

Built only when the config has a ``momentum_config`` (as mmcv registers its momentum hook), at
mmcv's priority HIGH: after the lr hook. The momentum goes to ``param_group['momentum']`` (SGD,
RMSprop) when the group has that key, else to ``betas[0]`` (Adam, AdamW, ...), as mmcv writes it.
"""
from __future__ import annotations

from typing import Any

from ocr_ds.engine.hooks.base import PRIORITIES, Hook
from ocr_ds.errors import UserError


def group_momentum(group: dict, optimizer: Any) -> float:
    """The momentum a param group trains with: ``momentum``, else ``betas[0]``."""
    if "momentum" in group:
        return group["momentum"]
    if "betas" in group:
        return group["betas"][0]
    # the config check refuses such optimizers first; this is for one it cannot know
    raise UserError(f"momentum_config: the optimizer ({type(optimizer).__name__}) has neither "
                    f"momentum nor betas to schedule; remove momentum_config or use an "
                    f"optimizer with momentum (SGD, RMSprop) or betas (Adam, AdamW, ...)")


def set_group_momentum(group: dict, momentum: float) -> None:
    """mmcv's ``_set_momentum`` for one group."""
    if "momentum" in group:
        group["momentum"] = momentum
    elif "betas" in group:
        group["betas"] = (momentum, group["betas"][1])


class MomentumUpdaterHook(Hook):
    priority = PRIORITIES["HIGH"]

    def __init__(self, schedule: Any):
        self.schedule = schedule
        self.base_momenta: list[float] | None = None

    def before_run(self, runner: Any) -> None:
        optimizer = runner.optimizer
        groups = optimizer.param_groups
        current = [group_momentum(g, optimizer) for g in groups]
        if self.base_momenta is None:  # not restored from a checkpoint
            # mmcv: setdefault('initial_momentum', ...): a resumed optimizer keeps its own
            self.base_momenta = [self.schedule.initial_momentum(g.get("initial_momentum", m))
                                 for g, m in zip(groups, current)]
        policy = self.schedule.policy
        for group, base in zip(groups, self.base_momenta):
            if self.schedule.one_cycle:
                # mmcv's OneCycle: the groups start at max_momentum and remember both bounds
                set_group_momentum(group, policy.max_momentum)
                group["base_momentum"] = policy.base_momentum
                group["max_momentum"] = policy.max_momentum
            else:
                group["initial_momentum"] = base

    def before_train_iter(self, runner: Any) -> None:
        for group, base in zip(runner.optimizer.param_groups, self.base_momenta):
            set_group_momentum(group, self.schedule.momentum(base, runner.epoch, runner.iter))

    def state_dict(self) -> dict[str, Any]:
        return {"base_momenta": self.base_momenta}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.base_momenta = state.get("base_momenta")
