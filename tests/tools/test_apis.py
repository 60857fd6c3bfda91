"""ocr_ds.apis against MMOCR 0.6.3's ``mmocr.apis`` on the same configs, weights and inputs:
``init_detector`` + ``model_inference`` (a file, an array, a list, batch mode, ``return_data``,
test-time rotation with and without batch mode, a KIE model's ``ann``),
``text_model_inference`` (NER), and the pictures ``show_result`` returns or writes."""
import copy
import os
import sys

import cv2
import numpy as np
import pytest
import torch

from ocr_ds import apis, registry
from ocr_ds.config import Config
from ocr_ds.datasets.kie.kie_dataset import KIEDataset
from ocr_ds.errors import UserError
from parity import assert_close, ref_file
from test_ocr_tool import setup  # noqa: F401  (the fixture: configs, weights, images)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models",
                                "ner"))
from test_ner_parity import tiny_model, write_vocab  # noqa: E402

REF = ref_file(__file__, "mmocr_apis.py")
pytestmark = pytest.mark.usefixtures("one_thread")
WORDS = [dict(box=[10, 10, 70, 10, 70, 30, 10, 30], text="ocr"),
         dict(box=[80, 12, 140, 12, 140, 32, 80, 32], text="7ab"),
         dict(box=[20, 60, 110, 60, 110, 80, 20, 80], text="deep")]
SENTENCES = ["张三在北京天安门", "xyz上海的书"]       # (MMOCR fails on an empty one)
NER_PIPELINE = '''
test_pipeline = [dict(type="NerTransform", label_convertor={convertor}, max_len=16),
                 dict(type="ToTensorNER")]
data = dict(test=dict(type="NerDataset", ann_file="none.txt", pipeline=test_pipeline,
                      loader=dict(type="AnnFileLoader", repeat=1, file_format="txt",
                                  parser=dict(type="LineJsonParser", keys=["text", "label"]))))
'''


@pytest.fixture(scope="module")
def inputs(setup, tmp_path_factory):  # noqa: F811
    """Word crops as files, and a tiny NER model's config and weights."""
    d = tmp_path_factory.mktemp("apis")
    img = cv2.imread(setup["images"][0])
    crops = []
    for i, w in enumerate(WORDS):
        x1, y1, x2, _, _, y2 = w["box"][:6]
        cv2.imwrite(str(d / f"crop{i}.png"), img[y1:y2 + 1, x1:x2 + 1])
        crops.append(str(d / f"crop{i}.png"))
    vocab = write_vocab(d / "vocab.txt")
    model = tiny_model(vocab)
    (d / "ner.py").write_text(f"model = {model!r}\n" + NER_PIPELINE.format(
        convertor=repr(model["label_convertor"])))
    torch.manual_seed(1)
    ner = registry.build(registry.MODELS, Config.fromfile(str(d / "ner.py"))["model"], "model")
    with torch.no_grad():   # (as built, it reads no entity: labels that vary along the text)
        ner.decoder.classifier.weight.normal_(0, 3.0)
    torch.save(dict(state_dict=ner.state_dict()), d / "ner.pth")
    s = setup
    return dict(det=(s["det_config"], s["det_ckpt"]), recog=(s["recog_config"], s["recog_ckpt"]),
                rot=(str(s["dir"] / "recog_rot.py"), s["recog_ckpt"]),
                kie=(str(s["dir"] / "kie.py"), str(s["dir"] / "kie.pth")),
                ner=(str(d / "ner.py"), str(d / "ner.pth")), images=s["images"], crops=crops,
                words=WORDS, sentences=SENTENCES)


def ours(m, out_dir):
    """The ref side's calls (mmocr_apis.runs), on ocr_ds.apis."""
    init, infer = apis.init_detector, apis.model_inference
    images, crops = m["images"], m["crops"]
    out = {}
    model = init(*m["det"], device="cpu")
    out["det_file"] = infer(model, images[0])
    out["det_list"] = infer(model, [images[0]])
    out["det_batch"] = infer(model, [cv2.imread(p) for p in images], batch_mode=True)
    result, data = infer(model, images[0], return_data=True)
    out["det_data_shape"] = list(data["img"].shape)
    out["det_array"] = infer(model, cv2.imread(images[1]))
    out["det_shown"] = torch.from_numpy(model.show_result(images[0], out["det_file"],
                                                          score_thr=0.3))
    model.show_result(images[0], out["det_file"], score_thr=0.0, bbox_color="red",
                      thickness=2, out_file=f"{out_dir}/det/red.png")
    out["det_red"] = torch.from_numpy(cv2.imread(f"{out_dir}/det/red.png"))
    model = init(*m["recog"], device="cpu")
    out["recog_files"] = [infer(model, p) for p in crops]
    out["recog_batch"] = infer(model, [cv2.imread(crops[2])], batch_mode=True)
    # (ours keeps the model's pipeline as it was: files still read after arrays)
    assert infer(model, crops[0]) == out["recog_files"][0]
    out["recog_shown"] = torch.from_numpy(model.show_result(crops[0], out["recog_files"][0]))
    out["recog_returned"] = torch.from_numpy(model.show_result(
        crops[1], out["recog_files"][1], gt_label="42", out_file=f"{out_dir}/recog.png"))
    out["recog_gt"] = torch.from_numpy(cv2.imread(f"{out_dir}/recog.png"))
    model = init(*m["rot"], device="cpu")
    out["rot_file"] = infer(model, crops[0])
    out["rot_batch"] = infer(model, crops[:1], batch_mode=True)
    model = init(*m["kie"], device="cpu")
    dataset = KIEDataset(dict_file=model.cfg.data.test.dict_file)
    ann = dataset._parse_anno_info(m["words"])
    ann["ori_bboxes"] = ann.get("ori_bboxes", ann["bboxes"])
    ann["gt_bboxes"] = ann.get("gt_bboxes", ann["bboxes"])
    out["kie"] = infer(model, cv2.imread(images[0]), ann=ann)
    model = init(*m["ner"], device="cpu")
    out["ner"] = [apis.text_model_inference(model, s) for s in m["sentences"]]
    return out


def _comparable(result):
    """A result without what ours adds (a recogniser's ``char_scores``; README) and, of a KIE
    result, its nodes, edges and the metas both sides give."""
    if isinstance(result, list):
        return [_comparable(r) for r in result]
    if isinstance(result, dict) and "nodes" in result:
        metas = [{k: m[k] for k in ("img_shape", "filename", "ori_texts")}
                 for m in result["img_metas"]]
        return dict(nodes=result["nodes"], edges=result["edges"], img_metas=metas)
    if isinstance(result, dict) and "text" in result:
        score = result["score"]
        return dict(text=result["text"],
                    score=float(np.mean(score)) if isinstance(score, list) else score)
    return result


@pytest.mark.filterwarnings("ignore:Remove \"MultiRotateAugOCR\"")
def test_apis_match_mmocr(mmocr_ref, inputs, tmp_path):
    theirs = mmocr_ref.call(REF, "runs", out_dir=str(tmp_path / "ref"), **inputs)
    got = ours(inputs, str(tmp_path / "ours"))
    assert got.keys() == theirs.keys()
    for key in got:
            assert_close(_comparable(got[key]), _comparable(theirs[key]), what=key)
    # the calls decide something: boundaries found, texts read, pictures drawn
    assert len(got["det_file"]["boundary_result"]) >= 2 and len(got["det_batch"]) == 2
    assert got["det_file"]["filename"] == inputs["images"][0]
    assert all(r["text"] for r in got["recog_files"])
    assert torch.equal(got["recog_returned"], got["recog_gt"])
    assert got["det_shown"].shape == (96, 160, 3) and got["recog_gt"].shape[0] == 3 * 64
    assert (got["det_red"] != got["det_shown"]).any()
    assert all(entities for (entities,) in got["ner"]), got["ner"]


def test_bad_input(setup, tmp_path):  # noqa: F811
    with pytest.raises(UserError, match="config: file not found"):
        apis.init_detector(str(tmp_path / "nope.py"), device="cpu")
    with pytest.raises(TypeError, match="config must be a filename or Config object"):
        apis.init_detector(dict(model=dict(type="DBNet")), device="cpu")
    model = apis.init_detector(setup["det_config"], setup["det_ckpt"], device="cpu")
    with pytest.raises(Exception, match="empty imgs provided"):
        apis.model_inference(model, [])
    with pytest.raises(AssertionError, match="imgs must be strings or numpy arrays"):
        apis.model_inference(model, 3)
    with pytest.raises(UserError, match="tensors missing or of another shape"):
        apis.init_detector(setup["recog_config"], setup["det_ckpt"], device="cpu")
    # without a checkpoint: a model of the config's shape, with its config attached
    bare = apis.init_detector(Config.fromfile(setup["det_config"]), device="cpu")
    assert bare.cfg.model.type == "DBNet" and not bare.training


def test_every_model_draws_its_result(setup, tmp_path):  # noqa: F811
    """``show_result`` is the models' own (built any way), with each MMOCR family's positional
    arguments: a detector's score_thr, a recogniser's gt_label, a KIE model's boxes (drawn
    with its class_list names)."""
    s = setup
    det = registry.build(registry.MODELS, Config.fromfile(s["det_config"])["model"], "model")
    result = dict(boundary_result=[[10, 10, 70, 10, 70, 30, 10, 30, 0.6],
                                   [80, 12, 140, 12, 140, 32, 80, 32, 0.4]])
    one, both = det.show_result(s["images"][0], result), det.show_result(s["images"][0],
                                                                         result, 0.3)
    assert (one != both).any() and one.shape == (96, 160, 3)
    recog = apis.init_detector(s["recog_config"], s["recog_ckpt"], device="cpu")
    assert recog.show_result(s["images"][1], dict(text="ab", score=0.5), "cd").shape[0] == 192
    kie = apis.init_detector(str(s["dir"] / "kie.py"), str(s["dir"] / "kie.pth"), device="cpu")
    dataset = KIEDataset(dict_file=kie.cfg.data.test.dict_file)
    ann = dataset._parse_anno_info(WORDS)
    ann["ori_bboxes"] = ann["gt_bboxes"] = ann["bboxes"]
    result = apis.model_inference(kie, s["images"][0], ann=ann)
    out = tmp_path / "kie" / "a.png"
    picture = kie.show_result(s["images"][0], result, ann["bboxes"], out_file=str(out))
    assert picture.shape == (96, 480, 3) and cv2.imread(str(out)).shape == picture.shape
    # the class names of kie.py's class_list on the page beside the image, not indices
    from ocr_ds.engine.show import show_result
    indices = show_result(s["images"][0], result, boxes=ann["bboxes"])
    assert (picture[:, :160] == indices[:, :160]).all() and (picture != indices).any()
    with pytest.raises(TypeError, match="at most 7 positional"):
        kie.show_result(s["images"][0], result, ann["bboxes"], "", False, 0, None, "extra")


def _configs():
    """``data`` dicts the two config utilities edit differently: a recognition pipeline with
    test-time rotation, a detection one with MultiScaleFlipAug around ImageToTensor, 2-d
    pipelines, member datasets (nested lists too), a type they leave alone, one set only.
    (A one-step pipeline is left out: MMOCR's disable_text_recog_aug_test raises IndexError.)"""
    load = dict(type="LoadImageFromFile")
    rot = [load, dict(type="MultiRotateAugOCR", rotate_degrees=[0, 90], transforms=[
        dict(type="ResizeOCR", height=8), dict(type="ImageToTensor", keys=["img"]),
        dict(type="Collect", keys=["img"])])]
    flip = [load, dict(type="MultiScaleFlipAug", img_scale=(64, 64), transforms=[
        dict(type="Resize"), dict(type="ImageToTensor", keys=["img"]),
        dict(type="Collect", keys=["img"])]), dict(type="ImageToTensor", keys=["img"])]
    member = dict(type="OCRDataset", ann_file="a.txt", pipeline=rot)
    return [
        (dict(val=dict(type="OCRDataset", pipeline=rot), test=dict(type="IcdarDataset",
                                                                    pipeline=flip)), None),
        (dict(val=dict(type="UniformConcatDataset", pipeline=[rot, flip], datasets=[member]),
              test=dict(type="ConcatDataset", datasets=[[member, member], member])), None),
        (dict(val=dict(type="OCRDataset", pipeline=rot),
              test=dict(type="OCRSegDataset", pipeline=rot)), ["test"]),
        (dict(val=dict(type="KIEDataset", pipeline=rot), test=dict(type="OCRDataset",
                                                                   pipeline=flip)), None),
    ]


@pytest.mark.filterwarnings("ignore")
def test_config_utilities_match_mmocr(mmocr_ref):
    """replace_image_to_tensor, disable_text_recog_aug_test and tensor2grayimgs as MMOCR's."""
    cfgs = _configs()
    tensor = torch.randn(3, 1, 5, 7, generator=torch.Generator().manual_seed(0)) * 0.8
    theirs, images = mmocr_ref.call(REF, "config_utils", cfgs=cfgs, tensor=tensor)
    for (data, set_types), (replaced, no_rotation) in zip(cfgs, theirs):
        cfg = Config(dict(data=copy.deepcopy(data)))
        assert apis.replace_image_to_tensor(cfg, set_types)["data"] == replaced
        assert apis.disable_text_recog_aug_test(cfg, set_types)["data"] == no_rotation
        assert cfg["data"] == data                          # the given config is left alone
    assert theirs[0][1]["val"]["pipeline"][1]["type"] == "ResizeOCR"   # they did change
    assert theirs[0][0]["test"]["pipeline"][2] == {"type": "DefaultFormatBundle"}
    ours = apis.tensor2grayimgs(tensor)
    assert len(ours) == 3 and all(np.array_equal(a, b.numpy()) for a, b in zip(ours, images))


def test_ner_demo_prints_mmocrs_entities(inputs, mmocr_ref, monkeypatch):
    """``python -m ocr_ds.tools.ner_demo`` (MMOCR's demo/ner_demo.py): the prompt, then one
    ``category: text`` line per entity MMOCR's text_model_inference finds on the same weights;
    bad input in one line."""
    import subprocess

    config, ckpt = inputs["ner"]
    theirs = mmocr_ref.call(REF, "ner_entities", config=config, checkpoint=ckpt,
                            sentences=SENTENCES)

    def demo(stdin):
        return subprocess.run([sys.executable, "-m", "ocr_ds.tools.ner_demo", config, ckpt,
                               "--device", "cuda:0"], input=stdin, capture_output=True,
                              text=True, timeout=300)

    for sentence, entities in zip(SENTENCES, theirs):
        out = demo(sentence + "\n")
        lines = [f"{c}: {sentence[s:e + 1]}" for (found,) in [entities] for c, s, e in found]
        assert out.returncode == 0 and lines, out.stderr
        assert out.stdout == "Please enter a sentence you want to test: " + "".join(
            f"{line}\n" for line in lines)
    import io

    from ocr_ds.tools import ner_demo

    for stdin, message in (("", "standard input: expected a sentence, got none"),
                           ("  \n", "standard input: expected a sentence, got an empty line")):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        with pytest.raises(UserError, match=f"^{message}$"):
            ner_demo.main([config, ckpt, "--device", "cpu"])
