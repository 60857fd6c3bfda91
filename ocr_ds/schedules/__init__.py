"""Learning-rate and momentum schedules with mmcv 1.x ``lr_config`` / ``momentum_config``
semantics, as pure functions.

:class:`LrSchedule` gives the lr of any training iteration from ``(base_lr, epoch, global_iter)``,
:class:`MomentumSchedule` the momentum (SGD's ``momentum``, Adam's ``betas[0]``); the engine
writes them into every param group before each iteration, since DeepSpeed has no
poly/step/epoch schedules of its own. See :mod:`ocr_ds.schedules.lr` and
:mod:`ocr_ds.schedules.momentum` for the exact semantics and :mod:`ocr_ds.schedules.policies`
and :mod:`ocr_ds.schedules.cyclic` for the policies.
"""
from .lr import POLICIES, POLICY_NAMES, WARMUPS, LrSchedule, canonical_policy
from .momentum import MOMENTUM_POLICIES, MOMENTUM_POLICY_NAMES, MomentumSchedule
from .policies import annealing_cos, annealing_linear

__all__ = ["LrSchedule", "MomentumSchedule", "WARMUPS", "POLICIES", "POLICY_NAMES",
           "MOMENTUM_POLICIES", "MOMENTUM_POLICY_NAMES", "annealing_cos", "annealing_linear",
           "canonical_policy"]
