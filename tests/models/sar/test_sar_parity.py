"""SAR against MMOCR 0.6.3's own code: ResNet31OCR + SAREncoder + Parallel/Sequential SAR
decoders, trained one step (teacher forcing, dropout on) and decoded greedily, on a tiny model
whose every option path (LSTM/GRU, bidirectional, pred_concat, masking) is exercised; the full
academic configs' keys, shapes and seeded initialisation."""
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "textrecog"))
from textrecog_parity import REF, batch, check_recognizer, seed_all  # noqa: E402

from ocr_ds.config import Config  # noqa: E402
from ocr_ds.registry import MODELS, build  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")

TINY_BACKBONE = dict(type="ResNet31OCR", layers=[1, 1, 1, 1],
                     channels=[8, 16, 16, 16, 32, 32, 32])


def sar(decoder="ParallelSARDecoder", **options):
    enc = dict(type="SAREncoder", enc_bi_rnn=options.get("enc_bi_rnn", False), enc_do_rnn=0.1,
               enc_gru=options.get("enc_gru", False), d_model=32, d_enc=16)
    dec = dict(type=decoder, enc_bi_rnn=options.get("enc_bi_rnn", False),
               dec_bi_rnn=options.get("dec_bi_rnn", False), dec_do_rnn=0,
               dec_gru=options.get("dec_gru", False), pred_dropout=0.1, d_k=8, d_model=32,
               d_enc=16, pred_concat=options.get("pred_concat", True))
    return dict(type="SARNet", backbone=TINY_BACKBONE, encoder=enc, decoder=dec,
                loss=dict(type="SARLoss"),
                label_convertor=dict(type="AttnConvertor", dict_type="DICT36",
                                     with_unknown=True, max_seq_len=7, lower=True),
                max_seq_len=7)


CASES = {
    "parallel": sar(),
    "parallel-bi-gru-noconcat": sar(enc_bi_rnn=True, dec_bi_rnn=True, enc_gru=True,
                                    dec_gru=True, pred_concat=False),
    "sequential": sar("SequentialSARDecoder"),
    "sequential-gru": sar("SequentialSARDecoder", dec_gru=True, enc_gru=True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_sar_matches_mmocr(mmocr_ref, tmp_path, name):
    # widths 40, 24, 12 of a 40-wide batch: valid ratios 1, 0.6, 0.3 (masked columns)
    data = batch([40, 24, 12], ["Hello", "ab", "a longer word"])
    check_recognizer(mmocr_ref, CASES[name], data, tmp_path)


@pytest.mark.parametrize("config", ["textrecog/sar/sar_r31_parallel_decoder_academic.py",
                                    "textrecog/sar/sar_r31_sequential_decoder_academic.py"])
def test_academic_config_init_matches_mmocr(mmocr_ref, config):
    """The shipped config's model: MMOCR's keys and shapes, and the same tensors from one seed
    (compared through per-tensor mean, std and sum of squares, 57 M parameters)."""
    cfg = Config.fromfile(os.path.join(ROOT, "configs", config))
    theirs = mmocr_ref.call(REF, "init_stats_by_seed", model_cfg=cfg["model"], seed=5)
    seed_all(5)
    model = build(MODELS, cfg["model"], "model")
    model.init_weights()
    ours = {}
    for k, v in model.state_dict().items():
        v = v.double()
        ours[k] = (tuple(v.shape), float(v.mean()) if v.numel() else 0.0,
                   float(v.std()) if v.numel() > 1 else 0.0, float((v * v).sum()))
    assert sorted(ours) == sorted(theirs)
    bad = [k for k in theirs if ours[k][0] != tuple(theirs[k][0])
           or any(abs(a - b) > 1e-9 * max(1.0, abs(b)) for a, b in zip(ours[k][1:], theirs[k][1:]))]
    assert not bad, f"{len(bad)} tensors differ from MMOCR's, e.g. {bad[:5]}"
