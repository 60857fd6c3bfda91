"""Ref side of test_sar_parity.py's beam-search test: MMOCR 0.6.3's ParallelSARDecoderWithBS
with the test's weights, decoding each case (batches of one: it asserts)."""
import torch


def decode(cfg, state, cases):
    from mmocr.models.builder import build_decoder

    decoder = build_decoder(dict(cfg))
    decoder.load_state_dict(state)
    decoder.eval()
    with torch.no_grad():
        return [decoder(feat, out_enc, None, img_metas, train_mode=False)
                for feat, out_enc, img_metas in cases]
