"""ONNX export of a text detector or recogniser, and the model that runs such a file in ONNX
Runtime (MMOCR 0.6.3's ``tools/deployment/pytorch2onnx.py`` and ``mmocr.core.deployment``).

The exported graph is what MMOCR's exporter traces: the image tensor in (``input``), the
network's test output out (``output``: a detector's head maps, a recogniser's decoder output),
decoding left to the Python side. Here both sides meet at one method, the models'
``test_outputs`` (``SingleStageTextDetector``: ``bbox_head(extract_feat(img))``; recognisers:
the decoder's output): :func:`export_onnx` traces it, and :func:`onnxruntime_model` builds the
config's model and swaps that method for an ONNX Runtime session, so everything after it
(valid ratios, test-time views, decoding, rescaling, ``show_result``) is the PyTorch model's
own code.

A head with several outputs (FCENet: two maps per level) is exported flat (``output``,
``output_1``, ...); the file's metadata (``ocr_ds.outputs``, torch's pytree spec) says how to
put them back together. A file without it (MMOCR's exporter's) is read as MMOCR reads it: the
first output is the head's output.
"""
from __future__ import annotations

import contextlib
import copy
import os
import sys
import tempfile
import warnings
from typing import Any, Mapping

import torch
from torch.utils import _pytree as pytree

from ocr_ds.errors import UserError

KINDS = ("det", "recog")
META_KIND = "ocr_ds.kind"
META_OUTPUTS = "ocr_ds.outputs"
META_MODEL = "ocr_ds.model"


def model_kind(model: torch.nn.Module) -> str:
    """``'det'`` or ``'recog'``: which export ``model`` allows; anything else is refused."""
    from ocr_ds.models.textdet.detector import SingleStageTextDetector

    name = type(model).__name__
    if isinstance(model, SingleStageTextDetector) and \
            type(model).forward is SingleStageTextDetector.forward:
        return "det"
    if callable(getattr(model, "test_outputs", None)) and callable(
            getattr(model, "postprocess", None)) and hasattr(model, "label_convertor"):
        return "recog"
    raise UserError(
        f"model.type: ONNX export takes a single-stage text detector (DBNet, DBNet++, PSENet, "
        f"PANet, FCENet, TextSnake) or an encoder-decoder recogniser (CRNN, SAR, NRTR, "
        f"RobustScanner, SATRN, MASTER, ABINet) (got {name}: its test step runs Python between "
        f"network parts, which one traced graph cannot hold)")


def check_kind(model: torch.nn.Module, model_type: str) -> str:
    """``model_type`` (the command line's ``det``/``recog``) must be what the model is."""
    kind = model_kind(model)
    if model_type != kind:
        raise UserError(f"model_type: expected {kind!r} for {type(model).__name__} "
                        f"(got {model_type!r})")
    return kind


def _sync_bn_to_bn(module: torch.nn.Module) -> torch.nn.Module:
    """Every ``SyncBatchNorm`` made a ``BatchNorm2d`` with its parameters and statistics (what
    MMOCR's exporter does; identical in eval mode)."""
    if isinstance(module, torch.nn.SyncBatchNorm):
        bn = torch.nn.BatchNorm2d(module.num_features, module.eps, module.momentum,
                                  module.affine, module.track_running_stats)
        bn.load_state_dict(module.state_dict())
        bn.to(next(module.parameters(), module.running_mean))
        module = bn.train(module.training)
    for name, child in list(module.named_children()):
        setattr(module, name, _sync_bn_to_bn(child))
    return module


class _Traced(torch.nn.Module):
    """``model.test_outputs`` on one image tensor, its output flattened to a tuple."""

    def __init__(self, model: torch.nn.Module, kind: str, img_metas: list[dict]):
        super().__init__()
        self.model = model
        self.kind = kind
        self.img_metas = img_metas

    def forward(self, img: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.kind == "det":
            out = self.model.test_outputs(img)
        else:
            out = self.model.test_outputs(img, [dict(m) for m in self.img_metas])
        return tuple(pytree.tree_flatten(out)[0])


def dynamic_axes(kind: str, n_outputs: int) -> tuple[list[str], dict[str, dict[int, str]]]:
    """Output names and MMOCR's dynamic axes (batch, height and width of a detector's image
    and maps; batch and width of a recogniser's image, batch, sequence and classes out)."""
    names = ["output"] + [f"output_{i}" for i in range(1, n_outputs)]
    if kind == "det":
        axes = {"input": {0: "batch", 2: "height", 3: "width"}}
        for i, name in enumerate(names):
            axes[name] = {0: "batch", 2: f"height_{i}" if i else "height",
                          3: f"width_{i}" if i else "width"}
    else:
        axes = {"input": {0: "batch", 3: "width"}}
        for name in names:
            axes[name] = {0: "batch", 1: "seq_len", 2: "num_classes"}
    return names, axes


def export_onnx(model: torch.nn.Module, kind: str, img: torch.Tensor, img_metas: list[dict],
                output_file: str, opset_version: int = 11, dynamic_export: bool = False,
                verbose: bool = False) -> str:
    """Trace ``model`` (eval mode, on ``img``'s device) into ``output_file``, written whole or
    not at all; returns the path."""
    import onnx

    model = _sync_bn_to_bn(copy.deepcopy(model)).eval()
    traced = _Traced(model, kind, img_metas).eval()
    with torch.no_grad():
        out = model.test_outputs(img) if kind == "det" else \
            model.test_outputs(img, [dict(m) for m in img_metas])
    leaves, spec = pytree.tree_flatten(out)
    names, axes = dynamic_axes(kind, len(leaves))
    folder = os.path.dirname(os.path.abspath(output_file))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".onnx-", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings(), _quiet_output(not verbose):
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            torch.onnx.export(traced, (img,), tmp, input_names=["input"], output_names=names,
                              export_params=True, keep_initializers_as_inputs=False,
                              verbose=verbose, opset_version=opset_version,
                              dynamic_axes=axes if dynamic_export else None, dynamo=False)
        proto = onnx.load(tmp)
        for key, value in ((META_KIND, kind), (META_MODEL, type(model).__name__),
                           (META_OUTPUTS, pytree.treespec_dumps(spec))):
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, tmp)
        os.replace(tmp, output_file)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return output_file


@contextlib.contextmanager
def _quiet_output(quiet: bool):
    """File descriptors 1 and 2 into a discarded file: torch's TorchScript exporter logs its
    whole graph on any error, verbose or not (its log switch is always on in torch 2.13)."""
    if not quiet:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy_ in zip((1, 2), saved):
                os.dup2(copy_, fd)
                os.close(copy_)


class OnnxRuntimeOutputs:
    """``test_outputs`` of a model, computed by an ONNX Runtime session of ``onnx_file``
    (``threads``: its intra- and inter-op threads)."""

    def __init__(self, onnx_file: str, device: torch.device, threads: int | None = None):
        import onnxruntime as ort

        if not os.path.isfile(onnx_file):
            raise UserError(f"model_file: no such ONNX file (got {onnx_file!r})")
        providers = ["CPUExecutionProvider"]
        if device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": device.index or 0}))
        options = ort.SessionOptions()
        if threads is not None:        # (default: ONNX Runtime's, every core)
            options.intra_op_num_threads = options.inter_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(onnx_file, sess_options=options,
                                                providers=providers)
        except Exception as exc:  # noqa: BLE001 (onnxruntime's own error types)
            raise UserError(f"model_file: not an ONNX model ({onnx_file}: "
                            f"{type(exc).__name__})") from None
        meta = self.session.get_modelmeta().custom_metadata_map   # the file's metadata_props
        self.input_name = self.session.get_inputs()[0].name
        self.kind = meta.get(META_KIND)
        self.spec = pytree.treespec_loads(meta[META_OUTPUTS]) if META_OUTPUTS in meta else None

    def __call__(self, img: torch.Tensor, *_: Any) -> Any:
        outs = self.session.run(None, {self.input_name: img.detach().float().cpu().numpy()})
        leaves = [torch.from_numpy(o).to(img.device) for o in outs]
        if self.spec is None:          # MMOCR's exporter's file: its first output
            return leaves[0]
        return pytree.tree_unflatten(leaves[:self.spec.num_leaves], self.spec)


def onnxruntime_model(onnx_file: str, cfg: Mapping[str, Any], model_type: str,
                      device: torch.device | str = "cpu") -> torch.nn.Module:
    """The config's model (for its decoding; its weights are not used) whose network part runs
    ``onnx_file`` in ONNX Runtime: ``model(batch, return_loss=False)``, ``simple_test``,
    ``show_result`` as the PyTorch model's. ``model.cfg`` is ``cfg``."""
    from ocr_ds import registry
    from ocr_ds.tools._infer_common import strip_pretrained

    device = torch.device(device)
    runner = OnnxRuntimeOutputs(onnx_file, device)
    model = registry.build(registry.MODELS, strip_pretrained(cfg["model"]), "model")
    kind = check_kind(model, model_type)
    if runner.kind not in (None, kind):
        raise UserError(f"model_type: {onnx_file} holds a {runner.kind!r} model (got "
                        f"{model_type!r})")
    model.test_outputs = runner
    model.cfg = cfg
    return model.to(device).eval()


def ONNXRuntimeDetector(onnx_file: str, cfg: Mapping[str, Any], device_id: int = 0,  # noqa: N802
                        show_score: bool = False) -> torch.nn.Module:
    """MMOCR's name: :func:`onnxruntime_model` of a detector on GPU ``device_id`` (the CPU
    without one)."""
    return onnxruntime_model(onnx_file, cfg, "det", gpu_or_cpu(device_id))


def ONNXRuntimeRecognizer(onnx_file: str, cfg: Mapping[str, Any], device_id: int = 0,  # noqa: N802
                          show_score: bool = False) -> torch.nn.Module:
    """MMOCR's name: :func:`onnxruntime_model` of a recogniser."""
    return onnxruntime_model(onnx_file, cfg, "recog", gpu_or_cpu(device_id))


def gpu_or_cpu(device_id: int = 0) -> torch.device:
    """GPU ``device_id`` where torch sees a GPU, else the CPU (the deployment tools' default)."""
    return torch.device("cuda", device_id) if torch.cuda.is_available() else torch.device("cpu")
