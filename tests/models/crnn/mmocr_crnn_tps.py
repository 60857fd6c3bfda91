"""Ref side of test_crnn_tps_parity.py: MMOCR 0.6.3's CRNN-TPS (CRNNNet + TPSPreprocessor)."""
import copy

import torch

from mmocr_common import (build_model, grads_of, load_config, publish_checkpoint, seed_all,
                          state_of)

CONFIG = 'textrecog/tps/crnn_tps_academic_dataset.py'


def train_and_test(seed, img, img_metas, checkpoint, fc2_weight):
    """A seeded CRNN-TPS's initial state (also written as MMOCR's checkpoint); then, with
    ``fc2_weight`` in the localisation network's last layer (0 at init, which would make the
    rectification ignore the image), its rectified images, loss and gradients in training and
    its rectified images, logits and results in testing."""
    cfg = load_config(CONFIG)['model']
    model = build_model(cfg, seed=seed)
    state = state_of(model)
    publish_checkpoint(model, checkpoint)
    with torch.no_grad():
        model.preprocessor.LocalizationNetwork.localization_fc2.weight.copy_(fc2_weight)
    rectified, logits = [], []
    model.preprocessor.register_forward_hook(lambda m, i, o: rectified.append(o.detach()))
    model.decoder.register_forward_hook(lambda m, i, o: logits.append(o.detach()))
    model.train()
    seed_all(seed)
    losses = model.forward_train(img.clone(), copy.deepcopy(img_metas))
    losses['loss_ctc'].backward()
    model.eval()
    with torch.no_grad():
        results = model.simple_test(img.clone(), copy.deepcopy(img_metas))
    return dict(config=cfg, state=state, loss=losses['loss_ctc'].detach(), grads=grads_of(model),
                train_rectified=rectified[0], test_rectified=rectified[1],
                train_logits=logits[0], test_logits=logits[1], results=results)
