"""Test-time speed of an exported ONNX file in ONNX Runtime against the PyTorch model it came
from, side by side in one run (one thread each, alternating rounds).

    python benchmarks/onnx_inference.py [--quick] [--json FILE]

For DBNet-R18 (MMOCR's config; a 736x1280 input, near the 736x1312 its ICDAR 2015 test pipeline
makes of a 1280x720 image) and
CRNN (MMOCR's academic config, a batch of 64 32x100 crops, and one crop): the network part of a
test step (``test_outputs``: what ``pytorch2onnx`` exports and ``deploy_test`` runs), weights as
built from a seed, PyTorch in ``torch.no_grad`` against an ONNX Runtime session of the file
``export_onnx`` writes (``--dynamic-export``'s axes). Ratio = median over rounds of ONNX
Runtime's median time / PyTorch's. Decoding is the same Python code on both sides and is left
out.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

CASES = {
    "DBNet-R18 1x3x736x1280": ("configs/textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py", "det",
                               (1, 3, 736, 1280)),
    "CRNN 64x1x32x100": ("configs/textrecog/crnn/crnn_academic_dataset.py", "recog",
                         (64, 1, 32, 100)),
    "CRNN 1x1x32x100": ("configs/textrecog/crnn/crnn_academic_dataset.py", "recog",
                        (1, 1, 32, 100)),
}


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name: str, rounds: int, repeats: int, tmp: str) -> dict:
    import torch

    from ocr_ds import registry
    from ocr_ds.config import Config
    from ocr_ds.deployment.onnx import OnnxRuntimeOutputs, export_onnx
    from ocr_ds.tools._infer_common import strip_pretrained

    config, kind, shape = CASES[name]
    torch.manual_seed(0)
    cfg = Config.fromfile(os.path.join(ROOT, config))
    model = registry.build(registry.MODELS, strip_pretrained(cfg["model"]), "model").eval()
    img = torch.randn(*shape)
    metas = [dict(resize_shape=shape[1:][::-1], valid_ratio=1.0) for _ in range(shape[0])]
    path = export_onnx(model, kind, img, metas, os.path.join(tmp, "m.onnx"),
                       dynamic_export=True)
    ort = OnnxRuntimeOutputs(path, torch.device("cpu"), threads=1)
    args = (img,) if kind == "det" else (img, metas)

    def pytorch():
        with torch.no_grad():
            model.test_outputs(*args)

    def onnxruntime():
        ort(img)

    pytorch(), onnxruntime()                # warm-up
    ratios, times = [], {"pytorch": [], "onnxruntime": []}
    for _ in range(rounds):
        t_pt = _median_time(pytorch, repeats)
        t_ort = _median_time(onnxruntime, repeats)
        times["pytorch"].append(t_pt)
        times["onnxruntime"].append(t_ort)
        ratios.append(t_ort / t_pt)
    return dict(case=name, pytorch_s=statistics.median(times["pytorch"]),
                onnxruntime_s=statistics.median(times["onnxruntime"]),
                ratio=statistics.median(ratios))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds (about a minute)")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)
    rounds = args.rounds or (3 if args.quick else 7)
    repeats = 3 if args.quick else 5
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in CASES:
            row = measure(name, rounds, repeats, tmp)
            rows.append(row)
            print(f"{name:26s} PyTorch {row['pytorch_s'] * 1e3:8.1f} ms   ONNX Runtime "
                  f"{row['onnxruntime_s'] * 1e3:8.1f} ms   ratio {row['ratio']:.3f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
