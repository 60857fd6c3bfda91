"""ocr_ds.tools.deployment against MMOCR 0.6.3's ``tools/deployment`` on the same configs,
weights and images (a narrow DBNet and a CRNN with seeded weights that find regions and read
crop-dependent texts): ``pytorch2onnx`` writes a file with MMOCR's inputs, outputs and numbers
(static and ``--dynamic-export``), MMOCR's ONNX Runtime models and ours decode either side's
file alike, ``deploy_test`` prints MMOCR's metrics and ``ocr_ds/test.py``'s on the same weights;
bad input is one line."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import onnx
import pytest
import torch

from ocr_ds.deployment.onnx import onnxruntime_model
from ocr_ds.config import Config
from ocr_ds.errors import UserError
from ocr_ds.tools.deployment import deploy_test, pytorch2onnx
from parity import assert_close, ref_file
from test_ocr_tool import setup  # noqa: F401  (configs, weights, images)

REF = ref_file(__file__, "mmocr_deployment.py")
pytestmark = pytest.mark.usefixtures("one_thread")
# the words test_ocr_tool's images show: (x1, y1, x2, y2), text
WORDS_BY_IMAGE = {"a": [((10, 10, 70, 30), "ocr"), ((80, 12, 140, 32), "7ab"),
                        ((20, 60, 110, 80), "deep")],
                  "b": [((0, 0, 40, 12), "xy"), ((50, 30, 79, 47), "42")]}


def _det_data(d, images):
    """ICDAR-style COCO JSON of the fixture's images, one box per word."""
    coco = dict(images=[], annotations=[], categories=[dict(id=1, name="text")])
    for i, path in enumerate(images):
        h, w = cv2.imread(path).shape[:2]
        coco["images"].append(dict(id=i, file_name=os.path.basename(path), height=h, width=w))
        for (x1, y1, x2, y2), _ in WORDS_BY_IMAGE[os.path.basename(path)[:-4]]:
            coco["annotations"].append(dict(
                id=len(coco["annotations"]), image_id=i, category_id=1, iscrowd=0,
                bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1),
                segmentation=[[x1, y1, x2, y1, x2, y2, x1, y2]]))
    (d / "det.json").write_text(json.dumps(coco))


def _recog_data(d, images):
    """Every word as a crop file and a label line."""
    lines = []
    for path in images:
        img = cv2.imread(path)
        stem = os.path.basename(path)[:-4]
        for j, ((x1, y1, x2, y2), text) in enumerate(WORDS_BY_IMAGE[stem]):
            cv2.imwrite(str(d / "crops" / f"{stem}_{j}.png"), img[y1:y2 + 1, x1:x2 + 1])
            lines.append(f"{stem}_{j}.png {text}")
    (d / "labels.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def files(setup, tmp_path_factory):  # noqa: F811
    """Test sets, the fixture's configs with them, and our exports."""
    d = tmp_path_factory.mktemp("deploy")
    (d / "crops").mkdir()
    imgs = setup["images"]
    _det_data(d, imgs)
    _recog_data(d, imgs)
    det = open(setup["det_config"]).read().replace(
        'data = dict(test=dict(type="UniformConcatDataset", datasets=[], pipeline=test_pipeline))',
        f'test = dict(type="IcdarDataset", ann_file="{d}/det.json",'
        f' img_prefix="{os.path.dirname(imgs[0])}", pipeline=test_pipeline)\n'
        'data = dict(workers_per_gpu=0, val=test, test=test)\n'
        'evaluation = dict(interval=1, metric="hmean-iou")')
    recog = open(setup["recog_config"]).read().replace(
        'data = dict(test=dict(type="UniformConcatDataset", datasets=[], pipeline=test_pipeline))',
        f'''test = dict(type="UniformConcatDataset", datasets=[dict(
    type="OCRDataset", img_prefix="{d}/crops", ann_file="{d}/labels.txt", pipeline=None,
    loader=dict(type="AnnFileLoader", repeat=1, file_format="txt",
                parser=dict(type="LineStrParser", keys=["filename", "text"], keys_idx=[0, 1],
                            separator=" ")))], pipeline=test_pipeline)
data = dict(workers_per_gpu=0, val=test, test=test)
evaluation = dict(interval=1, metric="acc")''')
    assert "IcdarDataset" in det and "OCRDataset" in recog
    (d / "det.py").write_text(det)
    (d / "recog.py").write_text(recog)
    crop = str(d / "crops" / sorted(os.listdir(d / "crops"))[0])
    out = dict(dir=d, det=(str(d / "det.py"), setup["det_ckpt"]), image=imgs[0], crop=crop,
               recog=(str(d / "recog.py"), setup["recog_ckpt"]), onnx={})
    for name, kind, image, dynamic in (("det", "det", imgs[0], False),
                                       ("det_dyn", "det", imgs[0], True),
                                       ("recog_dyn", "recog", crop, True)):
        argv = [*out[kind], kind, image, "--output-file", str(d / f"{name}.onnx"), "--verify"]
        assert pytorch2onnx.main(argv + (["--dynamic-export"] if dynamic else [])) == 0
        out["onnx"][name] = str(d / f"{name}.onnx")
    return out


def _io(path):
    """Input and output names and shapes (dimension names where dynamic) of an ONNX file."""
    graph = onnx.load(path).graph
    dims = [[x.dim_param or x.dim_value for x in v.type.tensor_type.shape.dim]
            for v in list(graph.input) + list(graph.output)]
    return [v.name for v in list(graph.input) + list(graph.output)], dims


def test_export_matches_mmocr(files, mmocr_ref, capsys):
    """MMOCR's exporter and ours on the same weights and image: the same graph inputs and
    outputs (names, static shapes, dynamic axes), the same numbers in ONNX Runtime, and both
    verify as "same"."""
    from ocr_ds.apis import init_detector

    d = files["dir"]
    for name, kind, image, dynamic in (("det", "det", files["image"], False),
                                       ("det_dyn", "det", files["image"], True),
                                       ("recog_dyn", "recog", files["crop"], True)):
        theirs_file = str(d / f"mmocr_{name}.onnx")
        printed = mmocr_ref.call(REF, "export", config=files[kind][0], checkpoint=files[kind][1],
                                 model_type=kind, image=image, output_file=theirs_file,
                                 dynamic=dynamic)
        assert "The outputs are same between PyTorch and ONNX" in printed, printed
        assert _io(files["onnx"][name]) == _io(theirs_file), name
        model = init_detector(*files[kind], device="cpu")
        img, _ = pytorch2onnx.prepare(model, image)
        ours = onnxruntime_model(files["onnx"][name], model.cfg, kind).test_outputs(img, [{}])
        theirs = mmocr_ref.call(REF, "ort_raw", onnx_file=theirs_file, array=img.numpy())
        assert_close(ours, theirs[0], rtol=1e-4, atol=1e-4)   # (CRNN logits to 8.7)
        if dynamic:   # another size through the same file
            img2 = pytorch2onnx.halved(kind, img, [{"scale_factor": np.ones(4)}])[0]
            theirs = mmocr_ref.call(REF, "ort_raw", onnx_file=files["onnx"][name], array=img2.numpy())
            with torch.no_grad():
                want = model.test_outputs(img2, [{}]) if kind == "recog" else \
                    model.test_outputs(img2)
            assert_close(want, theirs[0], rtol=1e-4, atol=1e-4)


def test_onnxruntime_models_decode_as_mmocr(files, mmocr_ref):
    """MMOCR's ONNXRuntimeDetector/Recognizer and ours on our files and on MMOCR's: the same
    boundaries and texts, and ours equal the PyTorch model's."""
    from ocr_ds.apis import init_detector

    d = files["dir"]
    for name, kind, image in (("det", "det", files["image"]),
                              ("recog_dyn", "recog", files["crop"])):
        model = init_detector(*files[kind], device="cpu")
        img, metas = pytorch2onnx.prepare(model, image)
        batch = {"img": img, "img_metas": metas}
        with torch.no_grad():
            want = model(dict(batch), return_loss=False)
        for path in (files["onnx"][name], str(d / f"mmocr_{name}.onnx")):
            if not os.path.exists(path):     # test_export_matches_mmocr writes MMOCR's files
                mmocr_ref.call(REF, "export", config=files[kind][0],
                               checkpoint=files[kind][1], model_type=kind, image=image,
                               output_file=path, dynamic=kind == "recog")
            ort = onnxruntime_model(path, model.cfg, kind)
            with torch.no_grad():
                ours = ort(dict(batch), return_loss=False)
            theirs = mmocr_ref.call(REF, "ort_results", config=files[kind][0], onnx_file=path,
                                    model_type=kind, image=image)
            if kind == "det":
                assert len(want[0]["boundary_result"]) >= 2     # the fixture's weights find text
                assert_close(ours[0]["boundary_result"], theirs["boundary_result"], rtol=1e-4,
                             atol=1e-4)
                assert_close(ours[0]["boundary_result"], want[0]["boundary_result"],
                             rtol=1e-4, atol=1e-4)
            else:
                assert want[0]["text"] and ours[0]["text"] == theirs[0]["text"] == want[0]["text"]
                assert_close(ours[0]["char_scores"], theirs[0]["score"], rtol=1e-4, atol=1e-5)


def test_deploy_test_prints_mmocrs_metrics(files, mmocr_ref, capsys):
    """``deploy_test ... ONNXRuntime --eval``: MMOCR's metrics on the same file and data, and
    those ``ocr_ds/test.py`` gives the PyTorch weights."""
    from ocr_ds import test as test_tool

    for name, kind, metric in (("det", "det", "hmean-iou"), ("recog_dyn", "recog", "acc")):
        config = files[kind][0]
        assert deploy_test.main([config, files["onnx"][name], kind, "ONNXRuntime", "--eval", metric,
                                 "--device", "cpu"]) == 0
        line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("{")][-1]
        ours = {k: float(v) for k, v in eval(line).items()}   # noqa: S307 (our own print)
        theirs = mmocr_ref.call(REF, "deploy_test", config=config, onnx_file=files["onnx"][name],
                                model_type=kind, metric=metric)
        assert ours == pytest.approx(theirs, abs=1e-9)
        pytorch = test_tool.run(test_tool.parse_args([config, files[kind][1], "--eval", metric]))
        capsys.readouterr()
        assert ours == pytest.approx({k: float(v) for k, v in pytorch.items()}, abs=1e-9)
        informative = [v for k, v in ours.items() if 0 < v < 1]
        assert informative, ours      # not all 0 / 1: the numbers say something


def test_files_carry_their_kind_and_fcenet_levels(files, tmp_path):
    """A file says which kind it holds (a recogniser's file refused as a detector's); a head
    of several outputs (FCENet: two maps on each of three levels) comes back nested."""
    cfg = Config.fromfile(files["det"][0])
    with pytest.raises(UserError, match="holds a 'recog' model"):
        onnxruntime_model(files["onnx"]["recog_dyn"], cfg, "det")
    with pytest.raises(UserError, match="model_type: expected 'det' for DBNet"):
        onnxruntime_model(files["onnx"]["det"], cfg, "recog")
    from ocr_ds import registry
    from ocr_ds.deployment.onnx import OnnxRuntimeOutputs, export_onnx

    torch.manual_seed(0)
    fce = registry.build(registry.MODELS, dict(
        type="FCENet",
        backbone=dict(type="mmdet.ResNet", depth=18, base_channels=4, num_stages=4,
                      out_indices=(1, 2, 3), norm_cfg=dict(type="BN"), style="pytorch",
                      init_cfg=None),
        neck=dict(type="mmdet.FPN", in_channels=[8, 16, 32], out_channels=8,
                  add_extra_convs="on_output", num_outs=3, relu_before_extra_convs=True),
        bbox_head=dict(type="FCEHead", in_channels=8, scales=(8, 16, 32), fourier_degree=5,
                       loss=dict(type="FCELoss", num_sample=50),
                       postprocessor=dict(type="FCEPostprocessor", scales=(8, 16, 32),
                                          text_repr_type="poly", num_reconstr_points=50,
                                          alpha=1.0, beta=2.0, score_thr=0.3))),
        "model").eval()
    img = torch.randn(1, 3, 64, 96)
    path = export_onnx(fce, "det", img, [{}], str(tmp_path / "fce.onnx"), dynamic_export=True)
    assert len(onnx.load(path).graph.output) == 6
    other = torch.randn(2, 3, 96, 64)          # another batch and size: dynamic axes
    got = OnnxRuntimeOutputs(path, torch.device("cpu"))(other)
    with torch.no_grad():
        want = fce.test_outputs(other)
    assert [len(level) for level in got] == [2, 2, 2]
    assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_bad_input_is_one_line(files, tmp_path):
    d = files["dir"]
    cases = [
        (["deploy_test", files["det"][0], files["onnx"]["det"], "det", "TensorRT"], "TensorRT"),
        (["deploy_test", files["det"][0], str(d / "none.onnx"), "det", "ONNXRuntime"],
         "model_file: no such ONNX file"),
        (["deploy_test", files["det"][0], files["det"][0], "det", "ONNXRuntime"],
         "model_file: not an ONNX model"),
        (["pytorch2onnx", *files["det"], "recog", files["image"]],
         "model_type: expected 'det' for DBNet (got 'recog')"),
        (["pytorch2onnx", *files["det"], "det", str(d / "none.png")], "no such image file"),
        (["onnx2tensorrt", files["det"][0], "det", files["image"], files["onnx"]["det"], "--fp16"],
         "trtexec --onnx="),
    ]
    for argv, message in cases:
        proc = subprocess.run([sys.executable, "-m", f"ocr_ds.tools.deployment.{argv[0]}",
                               *argv[1:]], capture_output=True, text=True, timeout=300,
                              cwd=str(tmp_path))
        assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
        err = proc.stderr.strip().splitlines()
        assert err[-1].startswith("error: ") and message in err[-1], (argv, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_show_writes_mmocrs_pictures(files, tmp_path, monkeypatch, capsys):
    """``--show``: MMOCR's ``pytorch.jpg`` and ``onnx.jpg`` in the working directory (no
    window without a display), the same boundaries drawn on both."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert pytorch2onnx.main([*files["det"], "det", files["image"], "--output-file", "x.onnx",
                              "--show"]) == 0
    assert "wrote onnx.jpg" in capsys.readouterr().out
    pictures = [cv2.imread(str(tmp_path / name)) for name in ("pytorch.jpg", "onnx.jpg")]
    assert pictures[0].shape == cv2.imread(files["image"]).shape
    assert np.array_equal(*pictures)
    assert not np.array_equal(pictures[0], cv2.imread(files["image"]))   # boundaries drawn
