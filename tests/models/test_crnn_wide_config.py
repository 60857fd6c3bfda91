"""The wide CRNN config of the ZeRO memory benchmark: >= 50 M parameters, and it learns."""
import os

import torch

from ocr_ds.config import Config
from ocr_ds.engine import builder

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(ROOT, "configs", "textrecog", "crnn", "crnn_wide_synth.py")


def test_wide_crnn_has_over_50m_parameters_and_trains_a_step():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = Config.fromfile(CONFIG)
    model = builder.build_model(cfg)
    n_backbone = sum(p.numel() for p in model.backbone.parameters())
    n_decoder = sum(p.numel() for p in model.decoder.parameters())
    assert n_backbone + n_decoder == sum(p.numel() for p in model.parameters()) == 57_955_877
    assert (n_backbone, n_decoder) == (22_194_688, 35_761_189)  # the config's comment
    assert model.decoder.rnn_flag and model.backbone.out_channels() == 1024
    assert cfg.data.samples_per_gpu == 8 and cfg.optimizer.type == "Adam"
    # the demo's data set and pipeline: 32 x 128 grey crops of generated words
    assert cfg.synth_data.out_dir == "data/synth_recog"
    batch = {"img": torch.randn(2, 1, 32, 128),
             "img_metas": [dict(text="hello", valid_ratio=1.0, resize_shape=(32, 128, 1)),
                           dict(text="world", valid_ratio=1.0, resize_shape=(32, 128, 1))]}
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()
    losses = []
    for _ in range(3):  # the same batch: the loss must fall
        loss = model(batch)["loss_ctc"].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert all(torch.isfinite(torch.tensor(losses))), losses
    assert losses[-1] < losses[0], losses
