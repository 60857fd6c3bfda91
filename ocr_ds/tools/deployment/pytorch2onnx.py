"""Export a text detector or recogniser to ONNX (MMOCR 0.6.3's ``tools/deployment/pytorch2onnx.py``,
same arguments)::

    python -m ocr_ds.tools.deployment.pytorch2onnx CONFIG CHECKPOINT det demo.jpg \\
        --output-file dbnet.onnx --dynamic-export --verify

The image runs through the config's test pipeline and is the trace's input. ``--verify``
checks the file with ``onnx.checker``, runs it in ONNX Runtime (at half the size with
``--dynamic-export``, as MMOCR) and compares the decoded results with PyTorch's: MMOCR's line
``The outputs are same/different between PyTorch and ONNX``, then the largest difference of the
raw outputs; exit 1 when different. ``--show`` writes MMOCR's ``pytorch.jpg`` and ``onnx.jpg``
(and shows them where a display is). The GPU of ``--device-id`` is used where there is one, the
CPU otherwise. Needs ``onnx`` and ``onnxruntime`` (``pip install ocr_ds[deploy]``).
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Sequence

import numpy as np
import torch

from ocr_ds.errors import CliParser, UserError, add_unsafe_pickle_flag, run_cli


def build_parser() -> CliParser:
    p = CliParser(prog="python -m ocr_ds.tools.deployment.pytorch2onnx",
                  description="Convert MMOCR models from pytorch to ONNX")
    p.add_argument("model_config", help="Config file.")
    p.add_argument("model_ckpt", help="Checkpoint (a .pth, a checkpoint directory or a work dir).")
    p.add_argument("model_type", choices=["recog", "det"],
                   help="Detection or recognition model to deploy.")
    p.add_argument("image_path", help="Input Image file.")
    p.add_argument("--output-file", default="tmp.onnx", help="Output file name of the onnx model.")
    p.add_argument("--device-id", type=int, default=0,
                   help="GPU used for the export (the CPU where there is no GPU).")
    p.add_argument("--opset-version", type=int, default=11,
                   help="ONNX opset version, default to 11.")
    p.add_argument("--verify", action="store_true",
                   help="Whether verify the outputs of onnx and pytorch are same.")
    p.add_argument("--verbose", action="store_true", help="Whether print the computation graph.")
    p.add_argument("--show", action="store_true", help="Whether visualize final output.")
    p.add_argument("--dynamic-export", action="store_true",
                   help="Whether dynamically export onnx model.")
    add_unsafe_pickle_flag(p)
    return p


def require_onnx() -> None:
    """``onnx`` and ``onnxruntime`` importable, else one line saying how to install them."""
    for name in ("onnx", "onnxruntime"):
        try:
            __import__(name)
        except ImportError:
            raise UserError(f"{name} is not installed: pip install 'ocr_ds[deploy]' (or "
                            f"pip install onnx onnxruntime)") from None


def prepare(model: torch.nn.Module, image_path: str) -> tuple[torch.Tensor, list[dict]]:
    """The image through ``model.cfg``'s test pipeline (test-time rotation left out, as MMOCR
    keeps only the first, unrotated view): the tensor of one image and its metas."""
    from ocr_ds.apis import model_test_pipeline, prepare_batch
    from ocr_ds.tools._infer_common import read_images

    read_images([image_path])      # a missing or unreadable image is one line, now
    with warnings.catch_warnings():  # model_inference's notes on the pipeline changes
        warnings.simplefilter("ignore", UserWarning)
        pipeline = model_test_pipeline(model, False, True)
    batch, _ = prepare_batch(model, pipeline, [image_path])
    return batch["img"], [dict(m) for m in batch["img_metas"]]


def compare(kind: str, torch_out: list, onnx_out: list) -> bool:
    """MMOCR's check: texts equal and scores within 1e-4 (recognition), boundaries within 1e-4
    (detection); here also as many of them on both sides."""
    if len(torch_out) != len(onnx_out):
        return False
    for a, b in zip(torch_out, onnx_out):
        if kind == "recog":
            if a["text"] != b["text"] or not np.allclose(
                    np.array(a["char_scores"]), np.array(b["char_scores"]), rtol=1e-4, atol=1e-4):
                return False
        else:
            ba, bb = a["boundary_result"], b["boundary_result"]
            if len(ba) != len(bb) or not all(
                    len(x) == len(y) and np.allclose(np.array(x), np.array(y), rtol=1e-4,
                                                     atol=1e-4) for x, y in zip(ba, bb)):
                return False
    return True


def max_difference(a: Any, b: Any) -> float:
    from torch.utils import _pytree as pytree

    la, lb = pytree.tree_flatten(a)[0], pytree.tree_flatten(b)[0]
    return max(float((x.float() - y.float()).abs().max()) if x.numel() else 0.0
               for x, y in zip(la, lb))


def halved(kind: str, img: torch.Tensor, metas: list[dict]) -> tuple[torch.Tensor, list[dict]]:
    """MMOCR's second input size for ``--dynamic-export``: half the width (recognition), half
    both sides (detection; rounded up to a multiple of 32, which every detector's neck needs,
    and ``scale_factor`` made to match)."""
    h, w = img.shape[-2:]
    if kind == "recog":
        return torch.nn.functional.interpolate(img, scale_factor=(1, 0.5)), metas
    size = (max(32, -(-h // 64) * 32), max(32, -(-w // 64) * 32))
    img = torch.nn.functional.interpolate(img, size=size)
    factor = np.array([size[1] / w, size[0] / h] * 2)
    return img, [dict(m, scale_factor=np.asarray(m["scale_factor"]) * factor) for m in metas]


def verify(model: torch.nn.Module, kind: str, img: torch.Tensor, metas: list[dict],
           output_file: str, dynamic_export: bool) -> tuple[bool, list, list, torch.nn.Module]:
    """Run the file and the PyTorch model on ``img`` (halved as MMOCR does with
    ``--dynamic-export``); print MMOCR's verdict and the raw outputs' largest difference."""
    import onnx

    from ocr_ds.deployment.onnx import onnxruntime_model

    onnx.checker.check_model(onnx.load(output_file))
    if dynamic_export:
        img, metas = halved(kind, img, metas)
    onnx_model = onnxruntime_model(output_file, model.cfg, kind, img.device)
    args = (img,) if kind == "det" else (img, [dict(m) for m in metas])
    with torch.no_grad():
        try:
            onnx_raw = onnx_model.test_outputs(*args)
        except Exception as exc:  # noqa: BLE001 (onnxruntime's own error types)
            raise UserError(f"--verify: ONNX Runtime cannot run {output_file} on a "
                            f"{tuple(img.shape)} input: {str(exc).splitlines()[0]}"
                            + ("; export without --dynamic-export" if dynamic_export else ""))
        raw = max_difference(model.test_outputs(*args), onnx_raw)
        batch = {"img": img, "img_metas": metas}
        torch_out = model(dict(batch), return_loss=False)
        onnx_out = onnx_model(dict(batch), return_loss=False)
    same = compare(kind, torch_out, onnx_out)
    print(f"The outputs are {'same' if same else 'different'} between PyTorch and ONNX")
    print(f"largest difference of the raw outputs: {raw:.3g}")
    return same, torch_out, onnx_out, onnx_model


def show(image_path: str, model: torch.nn.Module, onnx_model: torch.nn.Module,
         torch_out: list, onnx_out: list) -> None:
    """MMOCR's ``onnx.jpg`` and ``pytorch.jpg`` (in the working directory); windows too where
    there is a display."""
    from ocr_ds.engine.show import display_available, show_window

    pictures = {}
    for name, m, out in (("onnx.jpg", onnx_model, onnx_out), ("pytorch.jpg", model, torch_out)):
        pictures[name] = m.show_result(image_path, out[0], out_file=name, show=False)
        print(f"wrote {name}")
    if display_available() is None:
        show_window(pictures["pytorch.jpg"], "PyTorch")
        show_window(pictures["onnx.jpg"], "ONNXRuntime")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    require_onnx()
    from ocr_ds.apis import init_detector
    from ocr_ds.deployment.onnx import check_kind, export_onnx, gpu_or_cpu
    from ocr_ds.outputs import check_file_creatable

    for path, what in ((args.model_config, "model_config"), (args.model_ckpt, "model_ckpt")):
        if not os.path.exists(path):
            raise UserError(f"{what}: {path!r} does not exist")
    if not 7 <= args.opset_version <= 20:
        raise UserError(f"--opset-version: expected 7 to 20 (got {args.opset_version})")
    check_file_creatable(args.output_file, "--output-file")
    model = init_detector(args.model_config, args.model_ckpt, device=gpu_or_cpu(args.device_id),
                          allow_unsafe_pickle=args.allow_unsafe_pickle)
    kind = check_kind(model, args.model_type)
    img, metas = prepare(model, args.image_path)
    try:
        export_onnx(model, kind, img, metas, args.output_file, args.opset_version,
                    args.dynamic_export, args.verbose)
    except torch.onnx.errors.UnsupportedOperatorError as exc:
        raise UserError(f"--opset-version {args.opset_version}: {exc}") from None
    print(f"Successfully exported ONNX model: {args.output_file}")
    if not (args.verify or args.show):
        return 0
    same, torch_out, onnx_out, onnx_model = verify(model, kind, img, metas, args.output_file,
                                                    args.dynamic_export)
    if args.show:
        show(args.image_path, model, onnx_model, torch_out, onnx_out)
    return 0 if same else 1


if __name__ == "__main__":
    run_cli(main)
