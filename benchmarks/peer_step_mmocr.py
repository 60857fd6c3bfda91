"""MMOCR 0.6.3's own training step, for ``peer_step.py`` (runs in the reference venv only).

    python peer_step_mmocr.py MODEL WEIGHTS_OUT BATCH SIZE

Builds MMOCR's model from MMOCR's own config (DBNet-R18 ``dbnet_r18_fpnc_1200e_icdar2015.py``
without the ImageNet download, CRNN ``crnn_academic_dataset.py``), seeded, ``init_weights()``,
saves its weights for ocr_ds to load, builds the config's optimizer with mmcv's
``build_optimizer`` and trains the fixed batch of ``peer_batch.py`` exactly as mmcv's runner
does: ``model.train_step(data, optimizer)`` (forward, losses, ``_parse_losses``), then
``OptimizerHook``: ``zero_grad``, ``backward``, ``step``. Protocol on stdin/stdout: see
``peer_step.py``.
"""
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_batch import crnn_batch, dbnet_batch, serve  # noqa: E402

CONFIGS = {"dbnet": "textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py",
           "crnn": "textrecog/crnn/crnn_academic_dataset.py"}


def build(model_name, batch, size):
    import mmocr
    from mmcv import Config
    from mmcv.runner import build_optimizer
    from mmocr.models import build_detector

    cfg = Config.fromfile(os.path.join(os.path.dirname(mmocr.__file__), ".mim", "configs",
                                       CONFIGS[model_name]))
    if model_name == "dbnet":
        cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = build_detector(cfg.model)
    model.init_weights()
    model.train()
    optimizer = build_optimizer(model, cfg.optimizer)
    if model_name == "dbnet":
        from mmdet.core import BitmapMasks

        arrays = dbnet_batch(batch, size)
        data = {"img": torch.from_numpy(arrays["img"]),
                "img_metas": [{"img_shape": (size, size, 3), "ori_shape": (size, size, 3),
                               "pad_shape": (size, size, 3), "scale_factor": 1.0}
                              for _ in range(batch)]}
        for key in ("gt_shrink", "gt_shrink_mask", "gt_thr", "gt_thr_mask"):
            data[key] = [BitmapMasks([m], size, size) for m in arrays[key]]
    else:
        img, texts = crnn_batch(batch)
        data = {"img": torch.from_numpy(img),
                "img_metas": [{"text": t, "resize_shape": (32, 100, 1), "valid_ratio": 1.0}
                              for t in texts]}
    return model, optimizer, data


def main():
    model_name, weights_out, batch, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    model, optimizer, data = build(model_name, batch, size)
    torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, weights_out)

    def step():
        outputs = model.train_step(data, optimizer)     # mmcv EpochBasedRunner.run_iter
        optimizer.zero_grad()                            # mmcv OptimizerHook.after_train_iter
        outputs["loss"].backward()
        optimizer.step()
        return outputs["log_vars"]["loss"]

    first = step()
    serve(step, first, t0)


if __name__ == "__main__":
    main()
