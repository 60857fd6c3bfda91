"""Ref side of test_deployment.py: MMOCR 0.6.3's ``tools/deployment/pytorch2onnx.py``,
``deploy_test.py`` and ``mmocr.core.deployment``'s ONNX Runtime models, run on the CPU.

MMOCR's exporter ran on torch 1.8 and a GPU; on this venv's torch 2.13 three things are bent,
nothing else: its ``torch.device('cuda', ...)`` is the CPU, its ``torch.onnx.export`` is the
TorchScript exporter (torch 2.9 made the dynamo one the default) of a module whose ``forward``
takes only the image (the exporter now reads the bound ``img_metas`` of MMOCR's
``functools.partial`` from the signature as more inputs), and mmcv's extra symbolics (written
for torch 1.3's internals, which they fail on) are not registered."""
import contextlib
import importlib.util
import io
import sys
import types
import warnings

import numpy as np
import torch


def _tool(name):
    site = next(p for p in sys.path if p.endswith("site-packages"))
    spec = importlib.util.spec_from_file_location(
        f"mmocr_{name}", f"{site}/mmocr/.mim/tools/deployment/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _ImageOnly(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, img):
        return self.model.forward(img)


class _Torch(types.ModuleType):
    """The exporter module's ``torch``: the CPU for its device, the TorchScript exporter."""

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def device(type=None, index=None):  # noqa: A002
        return torch.device("cpu")

    # (the wrapper in the model's mode: the exporter restores the mode it found, recursively)
    onnx = types.SimpleNamespace(export=lambda model, args, *a, **k: torch.onnx.export(
        _ImageOnly(model).train(model.training), args, *a, dynamo=False, **k))


def _model(config, checkpoint):
    from mmocr.apis import init_detector
    from mmocr.utils import is_2dlist

    model = init_detector(config, checkpoint, device="cpu")
    test = model.cfg.data.test
    if test.get("pipeline", None) is None:
        test.pipeline = test.datasets[0][0].pipeline if is_2dlist(test.datasets) else \
            test["datasets"][0].pipeline
    if is_2dlist(test.pipeline):
        test.pipeline = test.pipeline[0]
    return model


def export(config, checkpoint, model_type, image, output_file, dynamic):
    """MMOCR's ``pytorch2onnx(...)`` with ``verify=True``: what it printed."""
    p2o = _tool("pytorch2onnx")
    p2o.torch = _Torch("torch")
    p2o.register_extra_symbolics = lambda opset: None
    warnings.simplefilter("ignore")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        p2o.pytorch2onnx(_model(config, checkpoint), model_type, image, output_file=output_file,
                         verify=True, dynamic_export=dynamic)
    return out.getvalue()


def ort_results(config, onnx_file, model_type, image):
    """MMOCR's ``ONNXRuntimeDetector``/``ONNXRuntimeRecognizer`` on ``image`` (through the
    config's test pipeline as the exporter prepares it): ``simple_test``'s results."""
    from mmcv import Config

    from mmocr.core.deployment import ONNXRuntimeDetector, ONNXRuntimeRecognizer

    p2o = _tool("pytorch2onnx")
    warnings.simplefilter("ignore")
    cfg = _model(config, None).cfg
    data = p2o._prepare_data(cfg, image)
    img = data["img"][0] if isinstance(data["img"], list) else data["img"]
    metas = data["img_metas"][0]
    cls = ONNXRuntimeDetector if model_type == "det" else ONNXRuntimeRecognizer
    model = cls(onnx_file, Config.fromfile(config), 0)
    with torch.no_grad():
        results = model.simple_test(img, metas, rescale=True)
    return results[0] if model_type == "det" else results


def deploy_test(config, onnx_file, model_type, metric):
    """MMOCR's ``deploy_test.py CONFIG FILE TYPE ONNXRuntime --eval METRIC --device cpu``:
    the metrics it printed."""
    import ast

    tool = _tool("deploy_test")
    warnings.simplefilter("ignore")
    argv = sys.argv
    sys.argv = ["deploy_test.py", config, onnx_file, model_type, "ONNXRuntime", "--eval",
                metric, "--device", "cpu"]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            tool.main()
    finally:
        sys.argv = argv
    last = [line for line in out.getvalue().splitlines() if line.startswith("{")][-1]
    return {k: float(v) for k, v in ast.literal_eval(last).items()}


def ort_raw(onnx_file, array):
    """The file's outputs in ONNX Runtime on ``array`` (the reference's onnxruntime)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_file, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {sess.get_inputs()[0].name: np.asarray(array, np.float32)})
    return [torch.from_numpy(o) for o in outs]
