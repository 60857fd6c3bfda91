"""Check a served model against the same weights run here (MMOCR 0.6.3's
``tools/deployment/test_torchserve.py``, same arguments)::

    python -m ocr_ds.tools.deployment.test_torchserve demo.jpg CONFIG CHECKPOINT NAME \\
        [--inference-addr 127.0.0.1:8080] [--device cuda:0] [--score-thr 0.5]

Runs :func:`ocr_ds.apis.model_inference` on the image, posts the image's bytes to
``http://ADDR/predictions/NAME`` and compares the two results key by key: texts equal, numbers
as ``numpy.allclose``, the same number of boundaries (the served result's ``filename`` is left
out: a served image has none). Prints ``The outputs are same/different between PyTorch and
TorchServe`` (and where they first differ); exit 1 when different. Both results are drawn as
MMOCR does (``--score-thr``) where a display is. The device falls back to the CPU where there is
no GPU. A server that cannot be reached or answers with an error is one line, exit 2.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Sequence

import numpy as np

from ocr_ds.errors import CliParser, UserError, add_unsafe_pickle_flag, run_cli


def build_parser() -> CliParser:
    p = CliParser(prog="python -m ocr_ds.tools.deployment.test_torchserve")
    p.add_argument("img", help="Image file")
    p.add_argument("config", help="Config file")
    p.add_argument("checkpoint", help="Checkpoint file")
    p.add_argument("model_name", help="The model name in the server")
    p.add_argument("--inference-addr", default="127.0.0.1:8080",
                   help="Address and port of the inference server")
    p.add_argument("--device", default="cuda:0", help="Device used for inference")
    p.add_argument("--score-thr", type=float, default=0.5, help="bbox score threshold")
    add_unsafe_pickle_flag(p)
    return p


def first_difference(ours: Any, served: Any, where: str = "") -> str | None:
    """Where ``served`` first differs from ``ours`` (None when they agree): texts and keys
    exactly, numbers within ``numpy.allclose``'s tolerance."""
    if isinstance(ours, dict):
        if not isinstance(served, dict) or set(ours) != set(served):
            got = sorted(served) if isinstance(served, dict) else type(served).__name__
            return f"{where or 'result'}: keys {sorted(ours)} here, {got} served"
        return next((d for k in ours
                     if (d := first_difference(ours[k], served[k], f"{where}[{k!r}]"))), None)
    if isinstance(ours, (list, tuple)):
        if not isinstance(served, list) or len(ours) != len(served):
            n = len(served) if isinstance(served, list) else type(served).__name__
            return f"{where}: {len(ours)} items here, {n} served"
        return next((d for i, (a, b) in enumerate(zip(ours, served))
                     if (d := first_difference(a, b, f"{where}[{i}]"))), None)
    if isinstance(ours, (int, float, np.number)) and not isinstance(ours, bool):
        if isinstance(served, (int, float)) and np.allclose(ours, served):
            return None
        return f"{where}: {ours!r} here, {served!r} served"
    return None if ours == served else f"{where}: {ours!r} here, {served!r} served"


def post(url: str, data: bytes) -> Any:
    """The server's JSON answer to ``data``; one line when it cannot be had."""
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        try:
            text = json.loads(text).get("message", text)
        except (ValueError, AttributeError):
            pass
        raise UserError(f"{url}: the server answered {exc.code}: "
                        f"{' '.join(str(text).split())}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"--inference-addr: cannot reach {url} ({reason}); is TorchServe "
                        f"running with the model registered?") from None
    try:
        return json.loads(body)
    except ValueError:
        raise UserError(f"{url}: expected a JSON answer, got {body[:80]!r}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ocr_ds.apis import init_detector, model_inference
    from ocr_ds.engine.show import display_available
    from ocr_ds.tools._infer_common import device_or_cpu, read_images

    read_images([args.img])         # a missing or unreadable image is one line, now
    device = device_or_cpu(args.device)
    model = init_detector(args.config, args.checkpoint, device=device,
                          allow_unsafe_pickle=args.allow_unsafe_pickle)
    ours = model_inference(model, args.img)
    with open(args.img, "rb") as f:
        served = post(f"http://{args.inference_addr}/predictions/{args.model_name}", f.read())
    if isinstance(served, dict):
        served.pop("filename", None)
    ours = {k: v for k, v in ours.items() if k != "filename"}
    if display_available() is None:
        model.show_result(args.img, ours, show=True, win_name="model_results",
                          score_thr=args.score_thr)
        model.show_result(args.img, served, show=True, win_name="serve_results",
                          score_thr=args.score_thr)
    difference = first_difference(ours, served)
    if difference is None:
        print("The outputs are same between PyTorch and TorchServe")
        return 0
    print("The outputs are different between PyTorch and TorchServe")
    print(f"first difference: {difference}")
    return 1


if __name__ == "__main__":
    run_cli(main)
