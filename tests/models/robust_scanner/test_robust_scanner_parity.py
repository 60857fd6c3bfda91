"""RobustScanner against MMOCR 0.6.3's own code: ResNet31OCR + ChannelReductionEncoder +
RobustScannerDecoder (hybrid and position branches, fusion), trained one step (teacher forcing)
and decoded greedily; with and without ``encode_value`` and masking."""
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "textrecog"))
from textrecog_parity import batch, check_recognizer  # noqa: E402

torch.set_num_threads(1)


def robust_scanner(encode_value=False, mask=True, dropout=0):
    return dict(
        type="RobustScanner",
        backbone=dict(type="ResNet31OCR", layers=[1, 1, 1, 1],
                      channels=[8, 16, 16, 16, 32, 32, 32]),
        encoder=dict(type="ChannelReductionEncoder", in_channels=32, out_channels=16),
        decoder=dict(type="RobustScannerDecoder", dim_input=32, dim_model=16,
                     encode_value=encode_value, mask=mask,
                     hybrid_decoder=dict(type="SequenceAttentionDecoder", dropout=dropout),
                     position_decoder=dict(type="PositionAttentionDecoder")),
        loss=dict(type="SARLoss"),
        label_convertor=dict(type="AttnConvertor", dict_type="DICT90", with_unknown=True,
                             max_seq_len=7),
        max_seq_len=7)


CASES = {
    "default": robust_scanner(),
    "encode-value-dropout": robust_scanner(encode_value=True, dropout=0.2),
}


@pytest.mark.parametrize("name", list(CASES))
def test_robust_scanner_matches_mmocr(mmocr_ref, tmp_path, name):
    data = batch([40, 24, 12], ["Hello", "a~b", "a longer word"])
    check_recognizer(mmocr_ref, CASES[name], data, tmp_path)
