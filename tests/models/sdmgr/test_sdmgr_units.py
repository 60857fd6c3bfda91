"""SDMGR and the KIE datasets on their own (no reference): per-image test results whatever the
batch size, a batch without known characters, a half-precision model, and the one-line errors
of bad KIE config values."""
import os

import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.config import Config
from ocr_ds.datasets.pipelines.kie_transforms import KIEFormatBundle, ResizeNoImg
from ocr_ds.errors import UserError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
torch.set_num_threads(1)


def model_of(name):
    cfg = Config.fromfile(os.path.join(REPO, "configs", "kie", "sdmgr", name)).to_dict()
    torch.manual_seed(0)
    model = registry.build(registry.MODELS, cfg["model"], "model")
    model.init_weights()
    return model.eval()


def sample(rng, n, chars=True):
    xy = rng.uniform(0, 40, (n, 2))
    texts = rng.randint(1, 92, (n, 4)).astype(np.int32) if chars else \
        -np.ones((n, 2), np.int32)
    return dict(img=torch.from_numpy(rng.normal(0, 1, (3, 64, 64)).astype(np.float32)),
                relations=rng.normal(0, 1, (n, n, 5)).astype(np.float32), texts=texts,
                gt_bboxes=np.concatenate([xy, xy + 10], 1).astype(np.float32), img_metas={})


def batch(samples):
    from ocr_ds.datasets.collate import collate
    return collate(samples)


@pytest.mark.parametrize("name", ["sdmgr_unet16_60e_wildreceipt.py",
                                  "sdmgr_novisual_60e_wildreceipt.py"])
def test_results_per_image_whatever_the_batch(name):
    model = model_of(name)
    rng = np.random.RandomState(0)
    samples = [sample(rng, 3), sample(rng, 5)]
    with torch.no_grad():
        together = model(batch(samples), return_loss=False)
        alone = [model(batch([s]), return_loss=False)[0] for s in samples]
    for a, b in zip(together, alone):
        torch.testing.assert_close(a["nodes"], b["nodes"], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(a["edges"], b["edges"], rtol=1e-5, atol=1e-6)
    assert [r["nodes"].shape for r in together] == [(3, 26), (5, 26)]
    assert [r["edges"].shape for r in together] == [(9, 2), (25, 2)]


def test_batch_without_known_characters_and_bf16():
    model = model_of("sdmgr_novisual_60e_wildreceipt.py")
    rng = np.random.RandomState(1)
    with torch.no_grad():
        (out,) = model(batch([sample(rng, 2, chars=False)]), return_loss=False)
        assert torch.isfinite(out["nodes"]).all()
        model = model.to(torch.bfloat16)
        (out,) = model(batch([sample(rng, 3)]), return_loss=False)
    assert out["nodes"].dtype == torch.bfloat16 and torch.isfinite(out["nodes"].float()).all()


def test_format_bundle_scales_relations():
    rel = np.ones((2, 2, 5), np.float32)
    results = dict(img_info=dict(width=200, height=100), img=np.zeros((0, 0, 0), np.uint8),
                   ann_info=dict(relations=rel, texts=np.ones((2, 1), np.int32)))
    results = KIEFormatBundle()(ResizeNoImg((1024, 512))(results))
    assert results["img_shape"] == (512, 1024, 1)
    assert np.allclose(results["relations"][0, 0], [5.12, 5.12, 1, 1, 1])
    results = KIEFormatBundle()(dict(scale_factor=2.0, ann_info=dict(
        relations=rel, texts=np.ones((2, 1), np.int32))))
    assert np.allclose(results["relations"][0, 0], [2, 2, 1, 1, 1])


def test_bad_kie_values_are_one_line_errors(tmp_path):
    from ocr_ds.datasets.kie.kie_dataset import KIEDataset
    from ocr_ds.datasets.kie.openset_kie_dataset import OpensetKIEDataset

    with pytest.raises(UserError, match="evaluation.metric: expected 'macro_f1'"):
        KIEDataset.metric_keys("hmean-iou")
    with pytest.raises(UserError, match="expected 'openset_f1'"):
        OpensetKIEDataset.metric_keys(["macro_f1"])
    (tmp_path / "ann.txt").write_text('{"file_name": "a.jpg", "height": 9, "width": 9, '
                                      '"annotations": [{"box": [0, 0, 4, 0, 4, 4, 0, 4], '
                                      '"text": "a", "label": 1, "edge": 0}]}\n')
    loader = dict(type="HardDiskLoader", parser=dict(
        type="LineJsonParser", keys=["file_name", "height", "width", "annotations"]))
    spec = dict(type="OpensetKIEDataset", ann_file=str(tmp_path / "ann.txt"), loader=loader,
                dict_file=str(tmp_path / "missing.txt"))
    with pytest.raises(UserError, match="dict_file: expected an existing character file"):
        registry.build(registry.DATASETS, spec, "data.test")
    (tmp_path / "dict.txt").write_text("a\n")
    spec.update(dict_file=str(tmp_path / "dict.txt"), link_type="one-to-two")
    with pytest.raises(UserError, match="data.test.link_type: expected one of"):
        registry.build(registry.DATASETS, spec, "data.test")
    spec = dict(spec, type="KIEDataset")
    spec.pop("link_type")
    kie = registry.build(registry.DATASETS, spec, "data.test")
    with pytest.raises(UserError, match="metric_options.macro_f1: expected only 'ignores'"):
        kie.evaluate([dict(nodes=[[0.2, 0.8]])], metric_options=dict(macro_f1=dict(ignore=[0])))
    assert kie.evaluate([dict(nodes=[[0.2, 0.8]])], metric_options=None) == {"macro_f1": 0.5}


@pytest.mark.parametrize("name,keys", [
    ("sdmgr_unet16_60e_wildreceipt.py", ["macro_f1"]),
    ("sdmgr_novisual_60e_wildreceipt_openset.py",
     ["edge_openset_f1", "node_openset_micro_f1", "node_openset_macro_f1"])])
def test_test_py_evaluates_writes_and_draws(name, keys, tmp_path, monkeypatch, capsys):
    """test.py on tiny WildReceipt-like data: --eval, --out (JSON per image), --show-dir (a
    picture per image: image | box classes, three times its width; without the visual
    modality the image is read for the picture)."""
    import importlib.util
    import json

    import cv2

    from ocr_ds.test import parse_args, run

    spec = importlib.util.spec_from_file_location(
        "tiny_data", os.path.join(REPO, "tests", "zoo", "tiny_data.py"))
    tiny_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny_data)
    config = os.path.join(REPO, "configs", "kie", "sdmgr", name)
    cfg = Config.fromfile(config).to_dict()
    monkeypatch.chdir(tmp_path)
    tiny_data.make_data(cfg, str(tmp_path))
    ckpt = tmp_path / "model.pth"
    torch.save({"state_dict": model_of(name).state_dict()}, ckpt)
    out, pictures = tmp_path / "preds.json", tmp_path / "pictures"
    metrics = run(parse_args([config, str(ckpt), "--eval", cfg["evaluation"]["metric"],
                              "--out", str(out), "--show-dir", str(pictures),
                              "--cfg-options", "data.workers_per_gpu=0"]))
    assert sorted(metrics) == sorted(keys)
    assert str(metrics) in capsys.readouterr().out.splitlines()
    preds = json.loads(out.read_text())
    lines = (tmp_path / cfg["data"]["test"]["ann_file"]).read_text().splitlines()
    assert len(preds) == len(lines) == 2
    for pred, line in zip(preds, lines):
        ann = json.loads(line)
        n = len(ann["annotations"])
        assert np.asarray(pred["nodes"]).shape == (n, cfg["model"]["bbox_head"]["num_classes"])
        assert np.asarray(pred["edges"]).shape == (n * n, 2)
        picture = cv2.imread(str(pictures / ann["file_name"]))
        if "openset" in name:   # image | key -> value pairs, columns 2/3 of its width each
            h, w = ann["height"], ann["width"]
            assert picture.shape[0] == h and (picture.shape[1] - w) % (w // 3 * 2) == 0
        else:                   # image | box classes (class_list names), twice its width
            assert picture.shape == (ann["height"], 3 * ann["width"], 3)
    if "openset" not in name:   # the class names come from model.class_list, read first
        os.remove(tmp_path / cfg["model"]["class_list"])
        with pytest.raises(UserError, match=r"^model.class_list: cannot read "
                                            r"'data/wildreceipt/class_list.txt' \(No such file"):
            run(parse_args([config, str(ckpt), "--show-dir", str(tmp_path / "again")]))
        assert not (tmp_path / "again").exists()


def test_class_list_file(tmp_path):
    """MMOCR's ``class_list``: '<index> <name>' a line (names drawn instead of indices)."""
    from ocr_ds.engine.show import draw_nodes, read_class_list

    path = tmp_path / "class_list.txt"
    path.write_text("0 Ignore\n1 Store_name_value\n\n2 Store_name_key\n")
    names = read_class_list(str(path))
    assert names == {"0": "Ignore", "1": "Store_name_value", "2": "Store_name_key"}
    img, boxes = np.zeros((40, 60, 3), np.uint8), np.array([[2, 2, 50, 30]], np.float32)
    nodes = [[0.1, 0.8, 0.1]]
    assert not np.array_equal(draw_nodes(img, nodes, boxes, names), draw_nodes(img, nodes, boxes))
    path.write_text("0 Ignore\n1 Store name\n")
    with pytest.raises(UserError, match=r"^model.class_list: .*class_list.txt:2: expected "
                                        r"'<class index> <class name>' \(got '1 Store name'\)"):
        read_class_list(str(path))
