"""MMOCR 0.6.3's ``tools/deployment/onnx2tensorrt.py``, not ported: its arguments are read and
the one-line answer is NVIDIA's ``trtexec`` command that builds the same engine (the same input
shapes, workspace and precision) from a file of ``pytorch2onnx``. ocr_ds has no TensorRT
runtime: ``deploy_test`` runs ONNX files in ONNX Runtime (on a GPU with ``onnxruntime-gpu``).
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import CliParser, UserError, run_cli

TENSORRT_NOTE = ("not in ocr_ds (no TensorRT runtime here): export with "
                 "ocr_ds.tools.deployment.pytorch2onnx and test the .onnx file with the "
                 "ONNXRuntime backend, or build an engine with NVIDIA's trtexec "
                 "(python -m ocr_ds.tools.deployment.onnx2tensorrt prints the command)")


def build_parser() -> CliParser:
    p = CliParser(prog="python -m ocr_ds.tools.deployment.onnx2tensorrt",
                  description="Convert MMOCR models from ONNX to TensorRT (not ported: prints "
                  "the trtexec command that does it)")
    p.add_argument("model_config", help="Config file of the model")
    p.add_argument("model_type", choices=["recog", "det"],
                   help="Detection or recognition model to deploy.")
    p.add_argument("image_path", help="Image for test")
    p.add_argument("onnx_file", help="Path to the input ONNX model")
    p.add_argument("--trt-file", default="tmp.trt", help="Path to the output TensorRT engine")
    p.add_argument("--max-shape", type=int, nargs=4, default=[1, 3, 400, 600],
                   help="Maximum shape of model input.")
    p.add_argument("--min-shape", type=int, nargs=4, default=[1, 3, 400, 600],
                   help="Minimum shape of model input.")
    p.add_argument("--workspace-size", type=int, default=1, help="Max workspace size in GiB.")
    p.add_argument("--fp16", action="store_true", help="Enable fp16 mode")
    p.add_argument("--verify", action="store_true", default=True,
                   help="Whether Verify the outputs of ONNXRuntime and TensorRT.")
    p.add_argument("--show", action="store_true", default=True,
                   help="Whether visiualize outputs of ONNXRuntime and TensorRT.")
    p.add_argument("--verbose", action="store_true",
                   help="Whether to verbose logging messages while creating TensorRT engine.")
    return p


def trtexec_command(args) -> str:
    """The ``trtexec`` line building the engine MMOCR's tool builds."""
    def shape(dims: Sequence[int]) -> str:
        return "input:" + "x".join(str(d) for d in dims)

    parts = ["trtexec", f"--onnx={args.onnx_file}", f"--saveEngine={args.trt_file}",
             f"--minShapes={shape(args.min_shape)}", f"--optShapes={shape(args.min_shape)}",
             f"--maxShapes={shape(args.max_shape)}",
             f"--memPoolSize=workspace:{args.workspace_size * 1024}M"]
    if args.fp16:
        parts.append("--fp16")
    if args.verbose:
        parts.append("--verbose")
    return " ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for lo, hi in zip(args.min_shape, args.max_shape):
        if lo > hi:
            raise UserError(f"--min-shape: expected at most --max-shape in every dimension (got "
                            f"{args.min_shape} and {args.max_shape})")
    raise UserError(f"onnx2tensorrt: not ported (ocr_ds has no TensorRT runtime); on the GPU "
                    f"machine that runs the engine: {trtexec_command(args)}")


if __name__ == "__main__":
    run_cli(main)
