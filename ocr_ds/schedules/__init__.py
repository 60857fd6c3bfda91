"""Learning-rate schedules with mmcv 1.x ``lr_config`` semantics, as pure functions.

:class:`LrSchedule` gives the lr of any training iteration from ``(base_lr, epoch, global_iter)``;
the engine writes it into every param group before each iteration, since DeepSpeed has no
poly/step/epoch schedules of its own. See :mod:`ocr_ds.schedules.lr` for the exact semantics and
:mod:`ocr_ds.schedules.policies` and :mod:`ocr_ds.schedules.cyclic` for the policies.
"""
from .lr import POLICIES, POLICY_NAMES, WARMUPS, LrSchedule, canonical_policy
from .policies import annealing_cos, annealing_linear

__all__ = ["LrSchedule", "WARMUPS", "POLICIES", "POLICY_NAMES", "annealing_cos",
           "annealing_linear", "canonical_policy"]
