"""python -m ocr_ds.tools.ocr: MMOCR 0.6.3's end-to-end OCR (``mmocr/utils/ocr.py``) on the
same weights and images gives the same results, files and pictures; bad input is one line."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.config import Config
from ocr_ds.errors import UserError
from ocr_ds.tools import _ocr_common as oc
from ocr_ds.tools import ocr
from parity import assert_close, ref_file

REF = ref_file(__file__, "mmocr_ocr.py")
pytestmark = pytest.mark.usefixtures("one_thread")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DET_CONFIG = '''
norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
model = dict(
    type="DBNet",
    backbone=dict(type="mmdet.ResNet", depth=18, base_channels=8, num_stages=4,
                  out_indices=(0, 1, 2, 3), norm_cfg=dict(type="BN", requires_grad=True),
                  norm_eval=False, style="caffe", init_cfg=None),
    neck=dict(type="FPNC", in_channels=[8, 16, 32, 64], lateral_channels=8, out_channels=4),
    bbox_head=dict(type="DBHead", in_channels=16,
                   loss=dict(type="DBLoss", alpha=5.0, beta=10.0, bbce_loss=True),
                   postprocessor=dict(type="DBPostprocessor", text_repr_type="quad")),
    train_cfg=None, test_cfg=None)
test_pipeline = [
    dict(type="LoadImageFromFile", color_type="color_ignore_orientation"),
    dict(type="MultiScaleFlipAug", img_scale=(160, 96), flip=False, transforms=[
        dict(type="Resize", img_scale=(160, 96), keep_ratio=True),
        dict(type="Normalize", **norm),
        dict(type="Pad", size_divisor=32),
        dict(type="ImageToTensor", keys=["img"]),
        dict(type="Collect", keys=["img"])])]
data = dict(test=dict(type="UniformConcatDataset", datasets=[], pipeline=test_pipeline))
'''
RECOG_CONFIG = '''
model = dict(
    type="CRNNNet", preprocessor=None,
    backbone=dict(type="VeryDeepVgg", leaky_relu=False, input_channels=1),
    encoder=None, decoder=dict(type="CRNNDecoder", in_channels=512, rnn_flag=True),
    loss=dict(type="CTCLoss"),
    label_convertor=dict(type="CTCConvertor", dict_type="DICT36", with_unknown=False,
                         lower=True),
    pretrained=None)
test_pipeline = [
    dict(type="LoadImageFromFile", color_type="grayscale"),
    dict(type="ResizeOCR", height=32, min_width=32, max_width=None, keep_aspect_ratio=True),
    dict(type="Normalize", mean=[127], std=[127]),
    dict(type="DefaultFormatBundle"),
    dict(type="Collect", keys=["img"], meta_keys=["filename", "resize_shape", "valid_ratio"])]
data = dict(test=dict(type="UniformConcatDataset", datasets=[], pipeline=test_pipeline))
'''
# the recogniser with test-time rotation (every crop also read turned by 90 and 270 degrees)
ROT_CONFIG = RECOG_CONFIG.replace('''test_pipeline = [
    dict(type="LoadImageFromFile", color_type="grayscale"),''', '''test_pipeline = [
    dict(type="LoadImageFromFile", color_type="grayscale"),
    dict(type="MultiRotateAugOCR", rotate_degrees=[0, 90, 270], force_rotate=True, transforms=[''')
ROT_CONFIG = ROT_CONFIG.replace('"valid_ratio"])]', '"valid_ratio"])])]')
KIE_CONFIG = '''
model = dict(
    type="SDMGR", backbone=dict(type="UNet", base_channels=4),
    bbox_head=dict(type="SDMGRHead", visual_dim=4, num_chars=40, num_classes=4, node_embed=16,
                   edge_embed=16, fusion_dim=40, num_gnn=1),
    visual_modality=False, train_cfg=None, test_cfg=None, class_list="{dir}/classes.txt")
norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
test_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations"),
    dict(type="Resize", img_scale=(1024, 512), keep_ratio=True),
    dict(type="RandomFlip", flip_ratio=0.),
    dict(type="Normalize", **norm),
    dict(type="Pad", size_divisor=32),
    dict(type="KIEFormatBundle"),
    dict(type="Collect", keys=["img", "relations", "texts", "gt_bboxes"],
         meta_keys=["img_norm_cfg", "img_shape", "ori_filename", "filename", "ori_texts"])]
data = dict(test=dict(type="KIEDataset", dict_file="{dir}/dict.txt", pipeline=test_pipeline))
'''


def _images():
    """Words on light boxes on dark ground, one touching the border; sizes that the test
    pipeline scales to its whole padded input (a box in the padding would be an empty crop:
    MMOCR raises)."""
    a = np.full((96, 160, 3), 30, np.uint8)
    b = np.full((48, 80, 3), 40, np.uint8)
    for img, (x1, y1, x2, y2), word in (
            (a, (10, 10, 70, 30), "ocr"), (a, (80, 12, 140, 32), "7ab"),
            (a, (20, 60, 110, 80), "deep"), (b, (0, 0, 40, 12), "xy"),
            (b, (50, 30, 79, 47), "42")):
        cv2.rectangle(img, (x1, y1), (x2, y2), (230, 230, 230), -1)
        cv2.putText(img, word, (x1 + 2, y2 - 3), cv2.FONT_HERSHEY_SIMPLEX,
                    (y2 - y1) / 30, (20, 20, 20), 1)
    return dict(a=a, b=b)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Config files, seeded weights both sides load, and the images, as files."""
    d = tmp_path_factory.mktemp("ocr")
    (d / "det.py").write_text(DET_CONFIG)
    (d / "recog.py").write_text(RECOG_CONFIG)
    (d / "recog_rot.py").write_text(ROT_CONFIG)
    torch.manual_seed(0)
    det = registry.build(registry.MODELS, Config.fromfile(str(d / "det.py"))["model"], "model")
    torch.manual_seed(9)
    with torch.no_grad():   # a smooth probability map (no checkerboard) with a few regions
        for i in (3, 6):
            w = det.bbox_head.binarize[i].weight
            w.copy_(w.normal_(0, 2.0 if i == 6 else 1.0).mean((2, 3), keepdim=True).expand_as(w))
        det.bbox_head.binarize[6].bias.fill_(-1.0)
    torch.manual_seed(1)
    rec = registry.build(registry.MODELS, Config.fromfile(str(d / "recog.py"))["model"],
                         "model")
    with torch.no_grad():   # features that do not fade: texts that depend on the crop
        for m in rec.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.fill_(2.0)
        for n, p in rec.decoder.named_parameters():
            if "weight" in n:
                p.normal_(0, 0.3)
    torch.save(dict(state_dict=det.state_dict()), d / "det.pth")
    with torch.no_grad():   # a detector that finds nothing
        det.bbox_head.binarize[6].bias.fill_(-30.0)
    torch.save(dict(state_dict=det.state_dict()), d / "det_none.pth")
    torch.save(dict(state_dict=rec.state_dict()), d / "recog.pth")
    torch.save(dict(state_dict=rec.state_dict(), meta=dict(
        config=Config.fromfile(str(d / "recog.py")).to_dict())), d / "recog_export.pth")
    (d / "dict.txt").write_text("\n".join("0123456789abcdefghijklmnopqrstuvwxyz") + "\n")
    (d / "classes.txt").write_text("0 Ignore\n1 Store\n2 Date\n")   # 3: no name
    (d / "kie.py").write_text(KIE_CONFIG.format(dir=d))
    torch.manual_seed(3)
    kie = registry.build(registry.MODELS, Config.fromfile(str(d / "kie.py"))["model"], "model")
    torch.save(dict(state_dict=kie.state_dict()), d / "kie.pth")
    images = []
    for name, img in _images().items():
        cv2.imwrite(str(d / f"{name}.png"), img)
        images.append(str(d / f"{name}.png"))
    return dict(dir=d, images=images, det_config=str(d / "det.py"), det_ckpt=str(d / "det.pth"),
                recog_config=str(d / "recog.py"), recog_ckpt=str(d / "recog.pth"))


RUNS = [
    ("e2e", dict(details=True, export="x1", output="o1")),
    ("e2e", dict(details=True, merge=True, merge_xdist=30)),
    ("e2e", dict(export="x3", print_result=True)),
    # batch mode: MMOCR's recogniser asserts on batches of more than one crop
    ("e2e", dict(details=True, batch_mode=True, det_batch_size=2, recog_batch_size=1)),
    ("none", dict(details=True, merge=True, output="o5")),
    # (no KIE --output: MMOCR's KIE picture needs a font it downloads; mmocr_ocr.py skips it)
    ("kie", dict(details=True, export="x8")),
    ("rot", dict(details=True)),
    ("rot", dict(details=True, batch_mode=True, recog_batch_size=1)),   # without the rotation
    ("det", dict(export="x6")),
    ("recog", dict(batch_mode=True, single_batch_size=1, export="x7")),
]


def _models(s):
    """MMOCR's constructor arguments of each run's models."""
    e2e = dict(det="DB_r18", det_config=s["det_config"], det_ckpt=s["det_ckpt"], recog="CRNN",
               recog_config=s["recog_config"], recog_ckpt=s["recog_ckpt"], device="cpu")
    return dict(e2e=e2e, none=dict(e2e, det_ckpt=str(s["dir"] / "det_none.pth")),
                det=dict(e2e, recog=None), recog=dict(e2e, det=None),
                rot=dict(e2e, recog_config=str(s["dir"] / "recog_rot.py")),
                kie=dict(e2e, kie="SDMGR", kie_config=str(s["dir"] / "kie.py"),
                         kie_ckpt=str(s["dir"] / "kie.pth")))


@pytest.mark.filterwarnings("ignore:Remove \"MultiRotateAugOCR\"")
def test_readtext_matches_mmocr(mmocr_ref, setup, tmp_path, capsys):
    s = setup
    ref = mmocr_ref.call(REF, "readtext_runs", models=_models(s), images=s["images"],
                         runs=RUNS, out_dir=str(tmp_path / "ref"))
    models = {}
    for (name, kwargs), theirs in zip(RUNS, ref):
        if name not in models:
            models[name] = ocr.MMOCR(**_models(s)[name])
        kwargs = dict(kwargs)
        for key in ("export", "output"):
            if kwargs.get(key):
                kwargs[key] = str(tmp_path / "ours" / kwargs[key])
        ours = models[name].readtext(list(s["images"]), **kwargs)
        what = f"{name} {kwargs}"
        assert_close(json.loads(json.dumps(ours)), theirs["result"], what=what)
        if name == "e2e" and kwargs.get("details") and not kwargs.get("merge"):
            counts = [len(r["result"]) for r in ours]
            assert 2 <= min(counts) and max(counts) <= 12, counts
            assert all(isinstance(v, int) for r in ours for x in r["result"] for v in x["box"])
        if kwargs.get("print_result"):
            assert capsys.readouterr().out == "".join(f"{r}\n\n" for r in ours)
        if kwargs.get("export"):
            files = {f: json.loads((tmp_path / "ours" / kwargs["export"] / f).read_text())
                     for f in os.listdir(tmp_path / "ours" / kwargs["export"])}
            assert sorted(files) == sorted(theirs["export"])
            assert_close(files, theirs["export"], what=what + " export")
        if kwargs.get("output"):
            folder = tmp_path / "ours" / kwargs["output"]
            assert sorted(os.listdir(folder)) == sorted(theirs["output"])
            for file, picture in theirs["output"].items():
                assert np.array_equal(cv2.imread(str(folder / file)), picture.numpy()), file
    texts = [x["text"] for r in ref[0]["result"] for x in r["result"]]
    assert any(texts) and len(set(texts)) > 1, texts   # the random recogniser reads something
    merged = ref[1]["result"]
    assert sum(len(r["result"]) for r in merged) < sum(len(r["result"]) for r in ref[0]["result"])
    assert ref[4]["result"] == [dict(filename="a", result=[]), dict(filename="b", result=[])]
    labels = {x["label"] for r in ref[5]["result"] for x in r["result"]}
    assert len(labels) > 1 and labels <= {"Ignore", "Store", "Date", "3"}, labels
    rotated = [x["text"] for r in ref[6]["result"] for x in r["result"]]
    unrotated = [x["text"] for r in ref[7]["result"] for x in r["result"]]
    assert unrotated == texts and rotated != texts   # some crop reads best turned


def test_cli_writes_mmocr_files_and_prints(setup, tmp_path, capsys):
    s = setup
    argv = [*s["images"][:2], "--det-config", s["det_config"], "--det-ckpt", s["det_ckpt"],
            "--recog-config", s["recog_config"], "--recog-ckpt", s["recog_ckpt"], "--device",
            "cpu", "--export", str(tmp_path / "x"), "--output", str(tmp_path / "o"),
            "--print-result"]
    assert ocr.main(argv) == 0
    assert sorted(os.listdir(tmp_path / "x")) == ["out_a.json", "out_b.json"]
    assert sorted(os.listdir(tmp_path / "o")) == ["out_a.png", "out_b.png"]
    res = json.loads((tmp_path / "x" / "out_a.json").read_text())
    assert sorted(res) == ["filename", "text"] and res["filename"] == "a"
    assert cv2.imread(str(tmp_path / "o" / "out_a.png")).shape == (96, 320, 3)
    out = capsys.readouterr().out
    assert out.startswith("{'filename': 'a', 'text': [") and out.count("\n\n") == 2
    # a folder stands for its files; batch mode without boxes and batch size 0 (MMOCR raises)
    (tmp_path / "in").mkdir()
    cv2.imwrite(str(tmp_path / "in" / "p.png"), _images()["a"])
    res = ocr.MMOCR(det_config=s["det_config"], det_ckpt=str(s["dir"] / "det_none.pth"),
                    recog_config=s["recog_config"], recog_ckpt=s["recog_ckpt"],
                    device="cpu").readtext(str(tmp_path / "in"), details=True, batch_mode=True)
    assert res == [dict(filename="p", result=[])]


def test_exported_checkpoint_carries_its_config(setup, tmp_path):
    s = setup
    for task in ("det", "recog"):
        state = torch.load(s[f"{task}_ckpt"])["state_dict"]
        cfg = Config.fromfile(s[f"{task}_config"]).to_dict()
        torch.save(dict(state_dict=state, meta=dict(config=cfg)), tmp_path / f"{task}.pth")
    res = ocr.MMOCR(det_ckpt=str(tmp_path / "det.pth"), recog_ckpt=str(tmp_path / "recog.pth"),
                    device="cpu").readtext(s["images"][1], details=True)
    again = ocr.MMOCR(**{k: s[k] for k in ("det_config", "det_ckpt", "recog_config",
                                           "recog_ckpt")}, device="cpu").readtext(
        s["images"][1], details=True)
    assert res == again and res[0]["result"]


def test_arrays_read_as_their_files(setup):
    s = setup
    models = ocr.MMOCR(**_models(s)["e2e"])
    arrays = [cv2.imread(p) for p in s["images"]]
    from_arrays = models.readtext(arrays, details=True)
    from_files = models.readtext(s["images"], details=True)
    assert [r["filename"] for r in from_arrays] == ["0", "1"]
    assert [r["result"] for r in from_arrays] == [r["result"] for r in from_files]
    with pytest.raises(UserError, match="img: expected image paths or arrays, not both"):
        models.readtext([arrays[0], s["images"][1]])


def test_crop_and_merge_edge_cases():
    img = np.arange(40 * 60 * 3, dtype=np.uint8).reshape(40, 60, 3)
    # a box past the border is clipped; the crop pads by 0.4 (long side) / 0.2 of the short one
    assert oc.crop_img(img, [-5, -5, 20, -5, 20, 10, -5, 10]).shape == (12, 24, 3)
    assert oc.crop_img(img, [50, 30, 70, 30, 70, 50, 50, 50]).shape == (14, 12, 3)
    assert oc.crop_box([0, 0, 4, 0, 4, 2, 2, 3, 0, 2, 0.9]) == [0, 0, 4, 0, 4, 3, 0, 3]
    words = [dict(box=[30, 0, 40, 0, 40, 10, 30, 10], text="b"),
             dict(box=[0, 1, 20, 1, 20, 11, 0, 11], text="a"),
             dict(box=[80, 0, 90, 0, 90, 10, 80, 10], text="c"),
             dict(box=[0, 30, 9, 30, 9, 40, 0, 40], text="d")]
    assert oc.stitch_boxes_into_lines(words, 20, 0.5) == [
        dict(text="a b", box=[0, 0, 40, 0, 40, 11, 0, 11]),
        dict(text="c", box=[80, 0, 90, 0, 90, 10, 80, 10]),
        dict(text="d", box=[0, 30, 9, 30, 9, 40, 0, 40])]
    assert oc.stitch_boxes_into_lines(words[:1], 20, 0.5) == words[:1]
    # a box wholly outside the image is an empty crop: not read (MMOCR's recogniser raises)
    seen = []

    def recognise(crops):
        seen.extend(c.shape for c in crops)
        return [dict(text="w", score=0.5) for _ in crops]

    res = oc.image_result("x", img, [[70, 5, 90, 5, 90, 15, 70, 15, 0.9],
                                     [1.4, 2.5, 30.6, 2.5, 30.6, 12, 1.4, 12, 0.8]], recognise)
    assert seen == [(13, 34, 3)]
    assert res == dict(filename="x", result=[
        dict(box=[70, 5, 90, 5, 90, 15, 70, 15], box_score=0.9, text="", text_score=0.0),
        dict(box=[1, 2, 31, 2, 31, 12, 1, 12], box_score=0.8, text="w", text_score=0.5)])


@pytest.mark.parametrize("args, message", [
    (["no/such.png"], "no/such.png: no such image file"),
    (["IMG", "--det-ckpt", "RECOG"], "--det-ckpt RECOG (its config): model.type: expected a "
                                     "text detector (got 'CRNNNet')"),
    (["IMG", "--det", "DB_r18", "--det-ckpt", "DETCKPT", "--config-dir", "NOCFG"],
     "--config-dir (DB_r18): config file not found"),
    (["IMG", "--recog-config", "DET", "--recog-ckpt", "DETCKPT"],
     "--recog-config: model.type: expected a text recog"),
    (["IMG", "--det", "None", "--recog", "None"], "expected at least one model"),
    (["IMG", "--recog-ckpt", "DETCKPT"], "--recog-ckpt DETCKPT: "),
    (["IMG", "--det", "PS_X"], "--det: unknown model 'PS_X'"),
    (["IMG", "--det", "Tesseract"], "--det: Tesseract is not supported"),
    (["IMG", "--kie-config", "DET", "--kie-ckpt", "DETCKPT"],
     "--kie-config: model.type: expected a key information extraction model (got 'DBNet')"),
    (["IMG", "--export-format", "pkl"], "--export-format: expected 'json'"),
    (["IMG", "--output", "IMG"], "cannot be an existing file"),
    (["IMG", "IMG"], "several images named 'a'"),
    (["IMG", "--imshow"], "--imshow: "),
    (["IMG", "--device", "nodevice"], "--device: "),
    (["IMG", "--recog-batch-size", "-1"], "--recog-batch-size: expected an integer >= 0"),
])
def test_bad_input_is_one_line(setup, tmp_path, monkeypatch, args, message):
    s = setup
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    names = dict(IMG=s["images"][0], RECOG=str(s["dir"] / "recog_export.pth"),
                 DET=s["det_config"], DETCKPT=s["det_ckpt"], NOCFG=str(tmp_path))
    argv = [names.get(a, a) for a in args]
    for key in ("det", "recog"):   # unless the case names its own
        if not any(a in (f"--{key}", f"--{key}-config", f"--{key}-ckpt") for a in args):
            argv += [f"--{key}-config", s[f"{key}_config"], f"--{key}-ckpt", s[f"{key}_ckpt"]]
    if "--device" not in args:
        argv += ["--device", "cpu"]
    with pytest.raises(UserError) as err:
        ocr.main(argv + ["--export", str(tmp_path / "x")])
    msg = str(err.value).replace(s["det_ckpt"], "DETCKPT").replace(names["RECOG"], "RECOG")
    assert message in msg and "\n" not in msg
    assert not (tmp_path / "x").exists()   # nothing written


def test_cli_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ocr_ds.tools.ocr", str(tmp_path / "x.png"),
                           "--det", "None", "--recog-ckpt", str(tmp_path / "r.pth")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "does not exist" in proc.stderr or "no such image" in proc.stderr


def test_model_names_use_shipped_configs_and_mmocr_urls(setup, monkeypatch):
    s = setup
    configs = os.path.join(ROOT, "configs")
    # CRNN's shipped config is the test's recogniser: its weights load and read the same
    by_name = ocr.MMOCR(det=None, recog="CRNN", recog_ckpt=s["recog_ckpt"], config_dir=configs,
                        device="cpu").readtext(s["images"])
    explicit = ocr.MMOCR(det=None, recog_config=s["recog_config"], recog_ckpt=s["recog_ckpt"],
                         device="cpu").readtext(s["images"])
    assert by_name == explicit and isinstance(by_name[0]["score"], float)
    asked = []

    def cached_url(url, key):
        asked.append((url, key))
        raise UserError(f"{key}: offline")

    monkeypatch.setattr("ocr_ds.models.common.init.cached_url", cached_url)
    for kwargs in (dict(det="DB_r18", recog=None), dict(det=None, recog="SAR")):
        with pytest.raises(UserError, match="offline"):
            ocr.MMOCR(config_dir=configs, device="cpu", **kwargs)
    base = "https://download.openmmlab.com/mmocr/"
    assert asked == [
        (base + "textdet/dbnet/dbnet_r18_fpnc_sbn_1200e_icdar2015_20210329-ba3ab597.pth",
         "--det-ckpt"),
        (base + "textrecog/sar/sar_r31_parallel_decoder_academic-dba3a4a3.pth", "--recog-ckpt")]
    for name, entry in {**ocr.TEXTDET_MODELS, **ocr.TEXTRECOG_MODELS}.items():
        if entry and name != "PS_CTW":   # PSENet's CTW1500 config is not shipped
            task = "textdet" if name in ocr.TEXTDET_MODELS else "textrecog"
            assert os.path.isfile(os.path.join(configs, task, entry["config"])), name


def test_kie_labels_and_picture(setup, tmp_path):
    s = setup
    argv = [s["images"][1], "--det-config", s["det_config"], "--det-ckpt", s["det_ckpt"],
            "--recog-config", s["recog_config"], "--recog-ckpt", s["recog_ckpt"],
            "--kie-config", str(s["dir"] / "kie.py"), "--kie-ckpt", str(s["dir"] / "kie.pth"),
            "--device", "cpu", "--details", "--export", str(tmp_path / "x"),
            "--output", str(tmp_path / "o")]
    assert ocr.main(argv) == 0
    words = json.loads((tmp_path / "x" / "out_b.json").read_text())["result"]
    assert words and all(isinstance(w["label"], str) and 0 < w["label_score"] <= 1
                         for w in words)
    # the KIE picture: the image and, on a white page twice as wide, each box's class
    assert cv2.imread(str(tmp_path / "o" / "out_b.png")).shape == (48, 240, 3)
    with pytest.raises(UserError, match="--kie: key information extraction runs on"):
        ocr.MMOCR(det=None, recog_config=s["recog_config"], recog_ckpt=s["recog_ckpt"],
                  kie_config=str(s["dir"] / "kie.py"), kie_ckpt=str(s["dir"] / "kie.pth"))
