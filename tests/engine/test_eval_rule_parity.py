"""``evaluation.save_best`` without ``rule``: the rule is inferred as mmcv 1.7.2's ``EvalHook``
does (exact greater key, exact less key, greater key within, less key within; case-insensitive),
from ``greater_keys`` / ``less_keys`` when given (they replace the defaults). Compared with
mmcv's own hook in the reference venv. ocr_ds's default greater keys add MMOCR's metric names
(``hmean``, ``recall``, ``N.E.D``, ``f1``), which mmcv's defaults cannot infer: the comparison
passes them to mmcv explicitly."""
from __future__ import annotations

import pytest

from ocr_ds.engine.hooks.evaluation import GREATER_KEYS, LESS_KEYS, EvalHook, infer_rule
from ocr_ds.errors import UserError
from parity import ref_file

REF = ref_file(__file__, "mmocr_eval_rule.py")
KEYS = ["0_word_acc", "0_hmean-iou:hmean", "loss", "val_loss_acc", "accuracy_loss", "LOSS",
        "mAP", "0_1-N.E.D", "macro_f1", "bleu", "top1_loss", "Loss_Top", "hmean-iou:recall"]
LISTS = [(list(GREATER_KEYS), list(LESS_KEYS)), (["bleu"], ["acc"]), (["LOSS"], ["loss"]),
         (["top"], ["top1_loss"])]


def test_inferred_rule_is_mmcvs(mmocr_ref):
    cases = [(key, greater, less) for greater, less in LISTS for key in KEYS]
    theirs = mmocr_ref.call(REF, "rules", cases=cases)
    ours = []
    for key, greater, less in cases:
        try:
            ours.append(infer_rule(key, greater, less))
        except UserError:
            ours.append("ValueError")  # mmcv: "Cannot infer the rule for key ..."
    assert ours == theirs
    assert {"greater", "less", "ValueError"} <= set(ours)  # every outcome is exercised


def test_eval_hook_arguments():
    hook = EvalHook(save_best="bleu", greater_keys="bleu", less_keys=["acc"], out_dir="/x",
                    broadcast_bn_buffer=False, gpu_collect=True, tmpdir="/tmp/t", metric="acc")
    assert (hook.greater_keys, hook.less_keys) == (("bleu",), ("acc",))
    assert hook.metric_args == {"metric": "acc"}  # the hook's own arguments stay the hook's
    assert not hook.broadcast_bn_buffer and hook.out_dir == "/x"
    for args, message in [
        (dict(greater_keys=[1]), "evaluation.greater_keys: expected None, a metric key or a list"),
        (dict(less_keys=[]), "evaluation.less_keys: expected None, a metric key or a list"),
        (dict(broadcast_bn_buffer="yes"), "evaluation.broadcast_bn_buffer: expected True or "
         "False (got 'yes')"),
        (dict(out_dir=3), "evaluation.out_dir: expected None or a directory (got 3)"),
    ]:
        with pytest.raises(UserError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
            EvalHook(**args)
