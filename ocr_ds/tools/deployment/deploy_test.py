"""Test (and evaluate) an ONNX model on a config's test set (MMOCR 0.6.3's
``tools/deployment/deploy_test.py``, same arguments)::

    python -m ocr_ds.tools.deployment.deploy_test CONFIG dbnet.onnx det ONNXRuntime --eval hmean-iou

One image a batch, test-time rotation left out (as MMOCR); the decoding is the PyTorch
model's, so the metrics are those ``ocr_ds/test.py`` gives the same weights, up to the
runtime's float rounding. A file from MMOCR's own exporter works too. The ``TensorRT`` backend
is not here (``onnx2tensorrt``). ``--device``: ``cpu`` or ``cuda:N`` (default: the first GPU
where there is one, else the CPU).
"""
from __future__ import annotations

import argparse
import os
from typing import Any, Sequence

import torch

from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.tools.deployment.onnx2tensorrt import TENSORRT_NOTE


def build_parser() -> CliParser:
    p = CliParser(prog="python -m ocr_ds.tools.deployment.deploy_test",
                  description="MMOCR test (and eval) a onnx or tensorrt model.")
    p.add_argument("model_config", help="Config file.")
    p.add_argument("model_file", help="Input file name for evaluation.")
    p.add_argument("model_type", choices=["recog", "det"],
                   help="Detection or recognition model to deploy.")
    p.add_argument("backend", choices=["TensorRT", "ONNXRuntime"],
                   help="Which backend to test, TensorRT or ONNXRuntime.")
    p.add_argument("--eval", nargs="+", metavar="METRIC",
                   help="The evaluation metrics: hmean-iou (detection), acc (recognition).")
    p.add_argument("--device", default=None,
                   help="Device used for inference (default: cuda:0 where there is a GPU, "
                   "else cpu).")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.backend == "TensorRT":
        raise UserError(f"backend TensorRT: {TENSORRT_NOTE}")
    from ocr_ds.tools.deployment.pytorch2onnx import require_onnx

    require_onnx()
    from ocr_ds.apis import disable_text_recog_aug_test
    from ocr_ds.config import Config
    from ocr_ds.config.check import check_config, raise_problems
    from ocr_ds.deployment.onnx import gpu_or_cpu, onnxruntime_model
    from ocr_ds.tools._infer_common import torch_device

    if not os.path.isfile(args.model_config):
        raise UserError(f"model_config: {args.model_config!r} does not exist")
    device = torch_device(args.device) if args.device else gpu_or_cpu()
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device: {args.device} asked for, but torch sees no GPU here "
                        "(--device cpu)")
    cfg = Config.fromfile(args.model_config)
    raise_problems(check_config(cfg, mode="test", eval_metrics=args.eval))
    model = onnxruntime_model(args.model_file, cfg, args.model_type, device)
    cfg = disable_text_recog_aug_test(cfg)
    metrics = evaluate(cfg, model, args.eval, device)
    if metrics is not None:
        print(metrics)
    return 0


def evaluate(cfg: Any, model: torch.nn.Module, metrics: list[str] | None,
             device: torch.device) -> dict[str, Any] | None:
    """Predict ``data.test`` one image a batch; the dataset's metrics (with ``metrics``)."""
    from ocr_ds.engine.data import build_loader, loader_settings
    from ocr_ds.engine.evaluate import collect, plain_metrics, predict
    from ocr_ds.engine.preflight import check_image_dirs
    from ocr_ds.engine.progress import ProgressBar
    from ocr_ds.test import build_test_dataset, check_eval_kwargs, eval_kwargs

    dataset = build_test_dataset(cfg["data"]["test"])
    check_image_dirs(dataset, "data.test")
    args = argparse.Namespace(eval=metrics, eval_kwargs={})
    if metrics:
        check_eval_kwargs(dataset, cfg, args)
    settings = dict(loader_settings(cfg["data"], "test"), samples_per_gpu=1)
    loader = build_loader(dataset, settings, rank=0, world_size=1, seed=0, device=device)
    bar = ProgressBar(len(dataset))
    part = predict(model, loader, device=device, length=len(dataset), progress=bar)
    bar.close()
    outputs = collect(part, len(dataset))
    if not metrics:
        print(f"\n{len(outputs)} predictions (no --eval: nothing evaluated)")
        return None
    return plain_metrics(dataset.evaluate(outputs, **eval_kwargs(cfg, args)))


if __name__ == "__main__":
    run_cli(main)
