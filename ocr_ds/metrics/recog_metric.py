"""Text recognition metrics, exactly as MMOCR 0.x ``mmocr/core/evaluation/ocr_metric.py``.

For each pair (prediction, ground truth):

* ``word_acc``: exact match; ``word_acc_ignore_case``: match after lower-casing;
  ``word_acc_ignore_case_symbol``: match after lower-casing and removing every character that is
  not ``A-Z a-z 0-9`` or a CJK ideograph (MMOCR's regex, ``^`` included as it writes it).
* Character level, on the lower-cased, symbol-free strings: true positives are the characters in
  the ``equal`` blocks of ``difflib.SequenceMatcher(None, pred, gt)``; ``char_recall`` = TP / gt
  chars, ``char_precision`` = TP / predicted chars.
* ``1-N.E.D``: 1 - mean over pairs of the normalised Levenshtein distance (distance / the longer
  length, 0 for two empty strings), also on the lower-cased, symbol-free strings (rapidfuzz's
  ``Levenshtein.normalized_distance``, as MMOCR).

``metric='acc'`` (or ``['acc']``) means all of them.

Ratios divide by ``count + 1e-8``; every value is rounded to 4 decimals (``'{:.4f}'``).
"""
from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Iterable, Sequence

from rapidfuzz.distance import Levenshtein

from ocr_ds.errors import UserError

# MMOCR's spelling (its ``^`` inside the class are literal carets, kept for identical results)
_SYMBOLS = re.compile("[^A-Z^a-z^0-9^\u4e00-\u9fa5]")

# metric names accepted by ``eval_ocr_metric(metric=...)`` -> result key
METRICS: dict[str, str] = {
    "word_acc": "word_acc",
    "word_acc_ignore_case": "word_acc_ignore_case",
    "word_acc_ignore_case_symbol": "word_acc_ignore_case_symbol",
    "char_recall": "char_recall",
    "char_precision": "char_precision",
    "one_minus_ned": "1-N.E.D",
}
_EPS = 1e-8


def cal_true_positive_char(pred: str, gt: str) -> int:
    """Characters of ``gt`` found, in order, in ``pred`` (SequenceMatcher ``equal`` blocks)."""
    return sum(e2 - s2 for op, _, _, s2, e2 in SequenceMatcher(None, pred, gt).get_opcodes()
               if op == "equal")


def count_matches(pred_texts: Sequence[str], gt_texts: Sequence[str]) -> dict[str, float]:
    """The counts the metrics are ratios of (MMOCR's ``count_matches``)."""
    res = dict(gt_char_num=0, pred_char_num=0, true_positive_char_num=0, gt_word_num=0,
               match_word_num=0, match_word_ignore_case=0, match_word_ignore_case_symbol=0)
    norm_ed_sum = 0.0
    for pred, gt in zip(pred_texts, gt_texts):
        if gt == pred:
            res["match_word_num"] += 1
        gt_lower, pred_lower = gt.lower(), pred.lower()
        if gt_lower == pred_lower:
            res["match_word_ignore_case"] += 1
        gt_clean, pred_clean = _SYMBOLS.sub("", gt_lower), _SYMBOLS.sub("", pred_lower)
        if gt_clean == pred_clean:
            res["match_word_ignore_case_symbol"] += 1
        res["gt_word_num"] += 1
        norm_ed_sum += Levenshtein.normalized_distance(pred_clean, gt_clean)
        res["gt_char_num"] += len(gt_clean)
        res["pred_char_num"] += len(pred_clean)
        res["true_positive_char_num"] += cal_true_positive_char(pred_clean, gt_clean)
    out: dict[str, float] = dict(res)
    out["ned"] = norm_ed_sum / max(1, len(gt_texts))
    return out


def eval_ocr_metric(pred_texts: Sequence[str], gt_texts: Sequence[str],
                    metric: str | Iterable[str] = "acc") -> dict[str, float]:
    """Recognition metrics of ``pred_texts`` against ``gt_texts`` (same length, same order).

    ``metric``: ``'acc'`` (all), or one name or several of :data:`METRICS`
    (``'one_minus_ned'`` gives ``'1-N.E.D'``). Returns ``{result key: value rounded to 4
    decimals}``.
    """
    if len(pred_texts) != len(gt_texts):
        raise ValueError(f"eval_ocr_metric: {len(pred_texts)} predictions for "
                         f"{len(gt_texts)} ground truths")
    if not all(isinstance(t, str) for t in (*pred_texts, *gt_texts)):
        raise TypeError("eval_ocr_metric: predictions and ground truths must be strings")
    if metric == "acc" or (not isinstance(metric, str) and list(metric) == ["acc"]):
        metric = tuple(METRICS)
    names = {metric} if isinstance(metric, str) else set(metric)
    unknown = names - set(METRICS)
    if unknown:
        raise UserError(f"evaluation.metric: unknown {sorted(unknown)}; expected 'acc' or some "
                        f"of {list(METRICS)}")
    m = count_matches(pred_texts, gt_texts)
    values = {
        "char_recall": m["true_positive_char_num"] / (_EPS + m["gt_char_num"]),
        "char_precision": m["true_positive_char_num"] / (_EPS + m["pred_char_num"]),
        "word_acc": m["match_word_num"] / (_EPS + m["gt_word_num"]),
        "word_acc_ignore_case": m["match_word_ignore_case"] / (_EPS + m["gt_word_num"]),
        "word_acc_ignore_case_symbol": (m["match_word_ignore_case_symbol"]
                                        / (_EPS + m["gt_word_num"])),
        "one_minus_ned": 1.0 - m["ned"],
    }
    # MMOCR's key order: char_recall, char_precision, word_acc, ..., 1-N.E.D
    return {METRICS[name]: float(f"{value:.4f}") for name, value in values.items()
            if name in names}
