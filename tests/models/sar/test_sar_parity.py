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




@pytest.mark.parametrize("width,text", [(40, "Hello"), (12, "a longer word")])
def test_beam_search_decoder_matches_mmocr(mmocr_ref, tmp_path, width, text):
    """ParallelSARDecoderWithBS (the parallel decoder's weights and training, beam search at
    test time): MMOCR's decodes one image per batch (it asserts), so one image a call."""
    cfg = sar("ParallelSARDecoderWithBS")
    cfg["decoder"]["beam_width"] = 3
    ours = check_recognizer(mmocr_ref, cfg, batch([width], [text]), tmp_path)
    # a sparse output: per step the kept candidate's probability at its character
    assert ((ours["test_out"] > 0).sum(-1) == 1).all()


def test_beam_search_differs_from_greedy_as_mmocr(mmocr_ref):
    """The decoder alone on peaked random weights and features, where the best-scoring
    candidate is not always the greedy one: MMOCR's result, and at least one case it differs
    from greedy decoding."""
    from ocr_ds import registry
    from parity import ref_file

    cfg = dict(type="ParallelSARDecoderWithBS", beam_width=3, num_classes=8, d_model=16,
               d_enc=8, d_k=8, max_seq_len=5, start_idx=0, padding_idx=7, pred_concat=True)
    torch.manual_seed(1)
    ours = registry.build(registry.COMPONENTS, cfg, "model.decoder")
    with torch.no_grad():
        for p in ours.parameters():
            p.normal_(0, 1.0)
    ours.eval()
    g = torch.Generator().manual_seed(1)
    cases = [(torch.randn(1, 16, 2, 6, generator=g), torch.randn(1, 8, generator=g),
              [dict(valid_ratio=1.0 if i < 20 else 0.5)]) for i in range(22)]
    theirs = mmocr_ref.call(ref_file(__file__, "mmocr_sar_bs.py"), "decode", cfg=cfg,
                            state=ours.state_dict(), cases=cases)
    differs = 0
    with torch.no_grad():
        for (feat, out_enc, metas), ref in zip(cases, theirs):
            out = ours(feat, out_enc, None, metas, train_mode=False)
            assert torch.equal(out, ref)
            greedy = ours._forward_test_full(feat, out_enc, metas).argmax(-1)
            differs += not torch.equal(out.argmax(-1), greedy)
    assert differs, "every case decoded as greedy decoding: the beam is not tested"
