"""Ref side of test_torchserve.py: MMOCR 0.6.3's TorchServe tools (``tools/deployment/
mmocr2torchserve.py`` and its handler ``mmocr_handler.py``), with torch-model-archiver and
torchserve 0.6.1, the releases of MMOCR 0.6.3's day (the reference venv has them)."""
import importlib.util
import json
import os
import tempfile
import warnings
import zipfile
from types import SimpleNamespace


def _tool(name):
    import mmocr

    path = os.path.join(os.path.dirname(mmocr.__file__), ".mim", "tools", "deployment",
                        f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"mmocr_tools_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def archive(config, checkpoint, out_dir, model_name=None):
    """MMOCR's ``mmocr2torchserve`` (the tool's function, as its command line calls it)."""
    warnings.simplefilter("ignore")
    _tool("mmocr2torchserve").mmocr2torchserve(config, checkpoint, out_dir, model_name, "1.0",
                                               False)
    return os.path.join(out_dir, f"{model_name or os.path.basename(checkpoint)[:-4]}.mar")


def serve(mar, batches):
    """MMOCR's handler (the file in its tools/deployment) on the files of archive ``mar`` (MMOCR's
    or ours), as a TorchServe worker runs it: ``initialize`` with the unpacked archive, then
    each batch of request rows (``{"body": bytes of the image file}``, or ``{"data": base64
    text}`` for a path given as ``("b64", path)``) through preprocess, inference, postprocess;
    the JSON TorchServe sends back for each request."""
    import base64

    warnings.simplefilter("ignore")
    model_dir = tempfile.mkdtemp(prefix="mmocr_mar_")
    with zipfile.ZipFile(mar) as z:
        z.extractall(model_dir)
    with open(os.path.join(model_dir, "MAR-INF", "MANIFEST.json")) as f:
        manifest = json.load(f)
    context = SimpleNamespace(system_properties={"model_dir": model_dir, "gpu_id": None},
                              manifest=manifest)
    handler = _tool("mmocr_handler").MMOCRHandler()
    handler.initialize(context)
    out = []
    for batch in batches:
        rows = []
        for item in batch:
            path = item[1] if isinstance(item, (list, tuple)) else item
            with open(path, "rb") as f:
                data = f.read()
            rows.append({"data": base64.b64encode(data).decode()} if path is not item
                        else {"body": bytearray(data)})
        results = handler.postprocess(handler.inference(handler.preprocess(rows)))
        out.append([json.loads(json.dumps(r)) for r in results])
    return out
