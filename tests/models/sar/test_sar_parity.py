"""SAR against MMOCR 0.6.3's own code: ResNet31OCR + SAREncoder + Parallel/Sequential SAR
decoders, trained one step (teacher forcing, dropout on) and decoded greedily, on a tiny model
whose every option path (LSTM/GRU, bidirectional, pred_concat, masking) is exercised; the full
shipped configs' model trees are checked in tests/models/textrecog/test_attn_base_parity.py."""
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "textrecog"))
from textrecog_parity import batch, check_recognizer  # noqa: E402

torch.set_num_threads(1)

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


