"""Ref side (mmcv 1.7.2): the comparison rule mmcv's ``EvalHook`` infers for ``save_best``
from its ``greater_keys`` / ``less_keys``."""
from mmcv.runner import EvalHook
from torch.utils.data import DataLoader


def rules(cases):
    """``[(key, greater_keys, less_keys)]`` -> the rule, or the exception's type name."""
    loader = DataLoader([0])
    out = []
    for key, greater, less in cases:
        try:
            hook = EvalHook(loader, save_best=key, greater_keys=greater, less_keys=less)
            out.append(hook.rule)
        except Exception as exc:  # noqa: BLE001 - the refusal is the answer
            out.append(type(exc).__name__)
    return out
