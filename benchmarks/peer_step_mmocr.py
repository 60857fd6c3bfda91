"""MMOCR 0.6.3's own training step, for ``peer_step.py`` (runs in the reference venv only).

    python peer_step_mmocr.py MODEL WEIGHTS_OUT BATCH SIZE [DEVICE [PRECISION]]

Builds MMOCR's model from MMOCR's own config (DBNet-R18 ``dbnet_r18_fpnc_1200e_icdar2015.py``
without the ImageNet download, CRNN ``crnn_academic_dataset.py``), seeded, ``init_weights()``,
saves its weights for ocr_ds to load, builds the config's optimizer with mmcv's
``build_optimizer`` and trains the fixed batch of ``peer_batch.py`` exactly as mmcv's runner
does: ``model.train_step(data, optimizer)`` (forward, losses, ``_parse_losses``), then
``OptimizerHook``: ``zero_grad``, ``backward``, ``step``. On a GPU (``DEVICE`` ``cuda``) the model
is wrapped in ``MMDataParallel`` as MMOCR's ``tools/train.py`` does on one GPU (the batch goes to
the device in every step), and ``PRECISION`` ``fp16`` is MMOCR's ``fp16 = dict(loss_scale=
'dynamic')``: ``Fp16OptimizerHook`` (``wrap_fp16_model``, torch.cuda.amp's GradScaler) in place
of the ``OptimizerHook``. A timed step ends with ``torch.cuda.synchronize()``. Protocol on
stdin/stdout: see ``peer_step.py``.

Runs in the reference venv, or (the GPU check) in any Python whose path holds mmcv-lite 1.7.2,
mmdet 2.28.2 and mmocr 0.6.3: then ``tests/parity/ref_stubs.py`` stands in for ``mmcv._ext``.
"""
import json
import os
import resource
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peer_batch import crnn_batch, dbnet_batch, scale_drops, serve  # noqa: E402

if "ocr_ds_ref_stubs" not in sys.modules:   # outside the reference venv (its .pth loads them)
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "parity"))
    import ref_stubs  # noqa: E402

    ref_stubs.install()

CONFIGS = {"dbnet": "textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py",
           "crnn": "textrecog/crnn/crnn_academic_dataset.py"}


def build(model_name, batch, size, device, precision, weights_out):
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
    torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, weights_out)
    hook = None
    if device == "cuda":    # mmocr.apis.train_detector on one GPU, in its order
        from mmcv.parallel import MMDataParallel
        from mmcv.runner import Fp16OptimizerHook, OptimizerHook

        model = MMDataParallel(model.cuda(), device_ids=[0])
        hook_cfg = dict(cfg.get("optimizer_config") or {})
        hook = (Fp16OptimizerHook(**hook_cfg, loss_scale="dynamic", distributed=False)
                if precision == "fp16" else OptimizerHook(**hook_cfg))
    elif precision != "fp32":
        raise SystemExit(f"peer_step_mmocr: {precision} needs DEVICE cuda")
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
    return model, optimizer, hook, data


class _Runner:
    """What mmcv's optimizer hooks read from the runner."""

    def __init__(self, model, optimizer):
        from mmcv.runner import LogBuffer

        self.model, self.optimizer, self.meta, self.outputs = model, optimizer, {}, None
        self.log_buffer = LogBuffer()


def main():
    model_name, weights_out, batch, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    device = sys.argv[5] if len(sys.argv) > 5 else "cpu"
    precision = sys.argv[6] if len(sys.argv) > 6 else "fp32"
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    model, optimizer, hook, data = build(model_name, batch, size, device, precision, weights_out)
    if hook is not None:    # the GPU: the runner's step with the config's optimizer hook
        runner = _Runner(model, optimizer)
        hook.before_run(runner)

        def step():
            runner.outputs = model.train_step(data, optimizer)  # MMDataParallel: batch to GPU
            hook.after_train_iter(runner)
            torch.cuda.synchronize()
            return runner.outputs["log_vars"]["loss"]
    else:
        def step():
            outputs = model.train_step(data, optimizer)     # mmcv EpochBasedRunner.run_iter
            optimizer.zero_grad()                            # mmcv OptimizerHook.after_train_iter
            outputs["loss"].backward()
            optimizer.step()
            return outputs["log_vars"]["loss"]

    first = step()
    scaler = getattr(hook, "loss_scaler", None)     # Fp16OptimizerHook's GradScaler
    serve(step, first, t0, scale_drops(scaler.get_scale) if scaler is not None else None)


if __name__ == "__main__":
    main()
