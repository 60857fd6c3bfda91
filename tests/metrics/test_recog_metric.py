"""Recognition metrics on hand-made cases with known answers (MMOCR 0.x definitions)."""
import pytest

from ocr_ds.errors import UserError
from ocr_ds.metrics.recog_metric import cal_true_positive_char, count_matches, eval_ocr_metric

ALL = {"word_acc", "word_acc_ignore_case", "word_acc_ignore_case_symbol", "char_recall",
       "char_precision", "1-N.E.D"}


def test_mmocr_reference_case():
    # MMOCR's own test pair: gt 'hello' / 'HELLO', predictions 'helL' / 'HEL'
    res = eval_ocr_metric(["helL", "HEL"], ["hello", "HELLO"])
    assert set(res) == ALL
    assert res["word_acc"] == 0.0
    assert res["word_acc_ignore_case"] == 0.0
    assert res["word_acc_ignore_case_symbol"] == 0.0
    assert res["char_recall"] == 0.7  # 4 + 3 of 10 characters found
    assert res["char_precision"] == 1.0  # all 7 predicted characters right
    assert res["1-N.E.D"] == 0.7  # 1 - (1/5 + 2/5) / 2


def test_word_accuracies_and_symbols():
    # MMOCR 1.x WordMetric case: gt hello / HELLO / $HELLO$ against 'hello' each time
    res = eval_ocr_metric(["hello"] * 3, ["hello", "HELLO", "$HELLO$"])
    assert res["word_acc"] == 0.3333
    assert res["word_acc_ignore_case"] == 0.6667
    assert res["word_acc_ignore_case_symbol"] == 1.0
    assert res["1-N.E.D"] == 1.0  # symbols and case are ignored in NED too


def test_ned_normalised_by_longer_string():
    # 'pred_helL' -> 'predhell' (underscore is a symbol) vs 'hello': distance 5 over max 8
    res = eval_ocr_metric(["pred_helL", "HEL"], ["hello", "HELLO"], metric="one_minus_ned")
    assert res == {"1-N.E.D": round(1 - (5 / 8 + 2 / 5) / 2, 4)}


def test_caret_is_kept_as_mmocr_writes_its_regex():
    # MMOCR's class [^A-Z^a-z^0-9^...] keeps '^': it is not removed as a symbol
    res = eval_ocr_metric(["ab"], ["a^b"], metric="word_acc_ignore_case_symbol")
    assert res == {"word_acc_ignore_case_symbol": 0.0}
    assert eval_ocr_metric(["ab"], ["a-b"])["word_acc_ignore_case_symbol"] == 1.0


def test_char_counts_use_sequence_matcher():
    assert cal_true_positive_char("abcd", "abxd") == 3
    assert cal_true_positive_char("", "abc") == 0
    counts = count_matches(["ab", ""], ["ab", "cd"])
    assert counts["gt_char_num"] == 4 and counts["pred_char_num"] == 2
    assert counts["true_positive_char_num"] == 2 and counts["ned"] == 0.5


def test_empty_inputs_and_rounding():
    res = eval_ocr_metric([], [])
    assert res["word_acc"] == 0.0 and res["1-N.E.D"] == 1.0
    both_empty = eval_ocr_metric([""], [""])
    assert both_empty["word_acc"] == 1.0 and both_empty["char_recall"] == 0.0
    assert eval_ocr_metric(["a", "b", "c"], ["a", "x", "y"])["word_acc"] == 0.3333


def test_metric_selection_and_errors():
    assert set(eval_ocr_metric(["a"], ["a"], metric=["word_acc", "char_recall"])) == {
        "word_acc", "char_recall"}
    with pytest.raises(UserError, match="unknown"):
        eval_ocr_metric(["a"], ["a"], metric="hmean-iou")
    with pytest.raises(ValueError):
        eval_ocr_metric(["a"], [])
