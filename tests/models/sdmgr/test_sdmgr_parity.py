"""SDMGR against MMOCR 0.6.3's own code: the three WildReceipt configs' models (keys both ways,
a published checkpoint loading 0/0, bit-identical initialisation from a seed, eval nodes and
edges, train losses and gradients on the same weights and batch); KIEDataset /
OpensetKIEDataset samples through the configs' pipelines (relations, texts, targets, images);
``macro_f1`` and ``openset_f1`` on seeded and edge inputs."""
import json
import logging
import os

import cv2
import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.checkpoint_io import load_checkpoint_any, match_state_dict
from ocr_ds.config import Config
from ocr_ds.engine.builder import load_weights
from ocr_ds.metrics.kie_metric import compute_f1_score
from parity import assert_close, assert_close_by_norm, assert_same_keys, ref_file

REF = ref_file(__file__, "mmocr_sdmgr.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
CONFIGS = ["kie/sdmgr/sdmgr_unet16_60e_wildreceipt.py",
           "kie/sdmgr/sdmgr_novisual_60e_wildreceipt.py",
           "kie/sdmgr/sdmgr_novisual_60e_wildreceipt_openset.py"]
WORDS = ["Total", "$12.50", "Tax", "0.80", "SAFEWAY", "", "a b", "Date", "12/05"]
LOADER = dict(type="HardDiskLoader", repeat=1,
              parser=dict(type="LineJsonParser",
                          keys=["file_name", "height", "width", "annotations"]))
torch.set_num_threads(1)


def config(path):
    return Config.fromfile(os.path.join(REPO, "configs", path)).to_dict()


def batch_of(rng):
    """Two images (64x96) with 4 and 3 boxes; the second's third text is empty (no known
    characters), the first's texts of different lengths (-1 padded)."""
    img = torch.from_numpy(rng.normal(0, 1, (2, 3, 64, 96)).astype(np.float32))
    nums, texts, boxes, relations, labels = [4, 3], [], [], [], []
    for n in nums:
        lens = rng.randint(1, 7, n)
        t = -np.ones((n, lens.max()), np.int32)
        for i, length in enumerate(lens):
            t[i, :length] = rng.randint(1, 92, length)
        texts.append(t)
        xy = rng.uniform(0, 50, (n, 2))
        boxes.append(np.concatenate([xy, xy + rng.uniform(4, 40, (n, 2))], 1).astype(np.float32))
        relations.append(rng.normal(0, 2, (n, n, 5)).astype(np.float32))
        edges = rng.randint(0, 2, (n, n)).astype(np.int32)
        np.fill_diagonal(edges, -1)
        labels.append(np.concatenate([rng.randint(0, 26, (n, 1)), edges], 1).astype(np.int32))
    texts[1][2] = -1
    return img, relations, texts, boxes, labels


def test_models_equal_mmocr(mmocr_ref, tmp_path):
    img, relations, texts, boxes, labels = batch_of(np.random.RandomState(3))
    tensors = [[torch.from_numpy(a) for a in arrays] for arrays in (relations, texts, boxes,
                                                                       labels)]
    theirs = mmocr_ref.call(REF, "model_run", configs=CONFIGS, seed=7, ckpt_dir=str(tmp_path),
                            img=img, relations=tensors[0], texts=tensors[1],
                            gt_bboxes=tensors[2], gt_labels=tensors[3])
    for path in CONFIGS:
        ref = theirs[os.path.basename(path)[:-3]]
        cfg = config(path)["model"]
        torch.manual_seed(7)
        model = registry.build(registry.MODELS, cfg, "model")
        model.init_weights()
        assert_same_keys(model.state_dict(), {k: torch.empty(v) for k, v in
                                              ref["shapes"].items()})
        state, _ = load_checkpoint_any(ref["checkpoint"])
        for k, v in model.state_dict().items():        # the same seed, the same weights
            assert torch.equal(v, state[k]), f"{path}: {k} differs from MMOCR's seeded init"
        match = match_state_dict(model, state)           # what --load-from reports
        assert not (match.missing or match.unexpected or match.mismatched), match.summary()
        load_weights(model, ref["checkpoint"], logging.getLogger("ocr_ds"))
        classes = cfg["bbox_head"]["num_classes"]
        batch = dict(img=img, img_metas=[{}, {}], relations=relations, texts=texts,
                     gt_bboxes=boxes, gt_labels=[np.concatenate([g[:, :1] % classes, g[:, 1:]],
                                                                1) for g in labels])
        model.eval()
        with torch.no_grad():
            preds = model(batch, return_loss=False)
        assert [len(p["nodes"]) for p in preds] == [4, 3]
        assert_close(torch.cat([p["nodes"] for p in preds]), ref["nodes"], what=f"{path} nodes")
        assert_close(torch.cat([p["edges"] for p in preds]), ref["edges"], what=f"{path} edges")
        model.train()
        losses = model(batch)
        assert_close(losses, ref["losses"], what=f"{path} losses")
        (losses["loss_node"] + losses["loss_edge"]).backward()
        grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
        assert sorted(grads) == sorted(ref["grads"]), path
        if cfg["visual_modality"]:
            # per tensor in L2 norm: the visual features are RoIAlign's sums done in another
            # order than mmcv's op (equal to float rounding), which train-mode BN and the
            # fusion's signed square roots amplify in single elements
            assert_close_by_norm(grads, ref["grads"], what=f"{path} gradients")
        else:
            assert_close(grads, ref["grads"], what=f"{path} gradients")


def write_data(root, rng, images=3, openset=False):
    """JSON lines of receipts: quadrangles in any vertex order (some rotated), characters
    outside the dictionary, an empty text, boxes sharing edge ids; their images; dict.txt."""
    with open(os.path.join(root, "dict.txt"), "w", encoding="utf-8") as f:
        f.writelines(f"{c}\n" for c in "abcdefghijklmnopqrstuvwxyzTS0123456789$. ")
    lines = []
    for i in range(images):
        h, w = int(rng.randint(60, 200)), int(rng.randint(60, 300))
        name = f"imgs/receipt_{i}.jpg"
        os.makedirs(os.path.join(root, "imgs"), exist_ok=True)
        cv2.imwrite(os.path.join(root, name), rng.randint(0, 255, (h, w, 3)).astype(np.uint8))
        anns = []
        for j in range(int(rng.randint(2, 7))):
            cx, cy = rng.uniform(5, w - 5), rng.uniform(5, h - 5)
            bw, bh, angle = rng.uniform(4, 60), rng.uniform(3, 20), rng.uniform(-0.4, 0.4)
            corners = np.array([[-bw, -bh], [bw, -bh], [bw, bh], [-bw, bh]]) / 2
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            pts = corners @ rot.T + [cx, cy]
            pts = np.roll(pts, int(rng.randint(4)), axis=0)           # any start vertex
            if rng.rand() < 0.3:
                pts = pts[::-1]                                       # anticlockwise
            anns.append(dict(box=[round(float(v), 1) for v in pts.reshape(-1)],
                             text=WORDS[int(rng.randint(len(WORDS)))],
                             label=int(rng.randint(4 if openset else 26)),
                             edge=int(rng.randint(3))))
        lines.append(json.dumps(dict(file_name=name, height=h, width=w, annotations=anns)))
    name = "openset.txt" if openset else "ann.txt"
    with open(os.path.join(root, name), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return name


def test_datasets_and_pipelines_equal_mmocr(mmocr_ref, tmp_path):
    rng = np.random.RandomState(5)
    ann_files = {CONFIGS[0]: write_data(tmp_path, rng), CONFIGS[1]: "ann.txt",
                 CONFIGS[2]: write_data(tmp_path, rng, openset=True)}
    theirs = mmocr_ref.call(REF, "dataset_run", configs=CONFIGS, root=str(tmp_path),
                            ann_files=ann_files)
    for path in CONFIGS:
        data = config(path)["data"]
        for split in ("train", "test"):
            spec = dict(data[split], ann_file=str(tmp_path / ann_files[path]),
                        img_prefix=str(tmp_path), dict_file=str(tmp_path / "dict.txt"))
            dataset = registry.build(registry.DATASETS, spec, f"data.{split}")
            ref = theirs[f"{path}:{split}"]
            assert len(dataset) == len(ref) > 0
            for i, want in enumerate(ref):
                got = dataset[i]
                what = f"{path} {split} sample {i}"
                assert sorted(k for k in got if k != "img_metas") == sorted(
                    k for k in want if k != "metas"), what
                for key in ("relations", "texts", "gt_labels"):
                    if key in want:
                        assert_close(torch.as_tensor(got[key]), want[key], rtol=0, atol=0,
                                     what=f"{what} {key}")
                assert_close(torch.as_tensor(got["gt_bboxes"]), want["gt_bboxes"],
                             what=f"{what} gt_bboxes")
                # mmcv normalises by multiplying with 1/std in float64, ocr_ds divides in
                # float32: the last bit may differ
                assert_close(got["img"], want["img"].float(), rtol=1e-6, atol=1e-6,
                             what=f"{what} img")
                metas = got["img_metas"]
                for key, value in want["metas"].items():
                    mine = metas[key]
                    if key == "ori_bboxes":
                        mine = [[float(v) for v in b] for b in mine]
                        value = [[float(v) for v in b] for b in value]
                    assert list(np.asarray(mine).reshape(-1)) == list(np.asarray(
                        value).reshape(-1)) if key != "ori_texts" else mine == value, \
                        f"{what} {key}"
    directed = registry.build(registry.DATASETS, dict(
        type="KIEDataset", ann_file=str(tmp_path / "ann.txt"), loader=LOADER, pipeline=[],
        dict_file=str(tmp_path / "dict.txt"), directed=True), "data.train")
    for i, want in enumerate(theirs["directed"]):
        assert torch.equal(torch.from_numpy(directed[i]["ann_info"]["labels"]), want), i


@pytest.mark.parametrize("seed", [0])
def test_metrics_equal_mmocr(mmocr_ref, tmp_path, seed):
    rng = np.random.RandomState(seed)
    ann_file = write_data(tmp_path, rng, images=4)
    openset_file = write_data(tmp_path, rng, images=4, openset=True)

    def scores(n, c):
        return torch.softmax(torch.from_numpy(rng.normal(0, 2, (n, c)).astype(np.float32)), -1)

    f1_cases = [(scores(300, 26), torch.from_numpy(rng.randint(0, 26, 300)).int(),
                 [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 25]),
                (scores(40, 5), torch.from_numpy(rng.randint(0, 3, 40)).int(), []),  # 3, 4 unseen
                (scores(1, 3), torch.tensor([2], dtype=torch.int32), [0]),
                (scores(6, 2), torch.zeros(6, dtype=torch.int32), [0, 1])]          # none left
    counts = [len(json.loads(line)["annotations"])
              for line in open(tmp_path / ann_file, encoding="utf-8")]
    macro_results = [dict(nodes=scores(n, 26)) for n in counts]
    counts = [len(json.loads(line)["annotations"])
              for line in open(tmp_path / openset_file, encoding="utf-8")]
    openset_results = []
    for n in counts:
        edges = torch.softmax(torch.from_numpy(rng.normal(0, 1.5, (n * n, 2)).astype(
            np.float32)), -1)
        openset_results.append(dict(nodes=scores(n, 4), edges=edges))
    link_types = ["one-to-one", "one-to-many", "many-to-one", "many-to-many", "none"]
    thrs = [0.5, 0.3]
    ignores = [0, 2, 4]
    theirs = mmocr_ref.call(REF, "metrics_run", f1_cases=f1_cases, root=str(tmp_path),
                            ann_file=ann_file, openset_ann_file=openset_file,
                            macro_results=macro_results, openset_results=openset_results,
                            ignores=ignores, link_types=link_types, edge_thrs=thrs)
    for (preds, gts, ig), want in zip(f1_cases, theirs["f1"]):
        assert torch.equal(torch.from_numpy(compute_f1_score(preds, gts, ig)), want)
    loader = LOADER
    kie = registry.build(registry.DATASETS, dict(
        type="KIEDataset", ann_file=str(tmp_path / ann_file), loader=loader,
        dict_file=str(tmp_path / "dict.txt")), "data.test")
    # as test.py gives them: JSON values
    plain = json.loads(json.dumps([{"nodes": r["nodes"].tolist()} for r in macro_results]))
    got = kie.evaluate(plain, metric_options=dict(macro_f1=dict(ignores=ignores)))
    assert got == {"macro_f1": theirs["macro"]}
    for link_type in link_types:
        for thr in thrs:
            ds = registry.build(registry.DATASETS, dict(
                type="OpensetKIEDataset", ann_file=str(tmp_path / openset_file), loader=loader,
                dict_file=str(tmp_path / "dict.txt"), link_type=link_type, edge_thr=thr),
                "data.test")
            got = ds.evaluate(openset_results)
            assert got == theirs["openset"][f"{link_type}:{thr}"], (link_type, thr)


def test_openset_picture_pairs_equal_mmocr(mmocr_ref):
    """The key -> value pairs an open-set picture shows (``test.py --show-dir``), in MMOCR's
    order with its link scores, on seeded scores (links either way, keys below the threshold)."""
    from ocr_ds.engine.show import key_value_pairs

    rng = np.random.RandomState(3)
    results, texts = [], []
    for n in (1, 2, 5, 9, 9):
        nodes = torch.softmax(torch.from_numpy(rng.normal(0, 1.5, (n, 4)).astype(np.float32)), -1)
        edges = torch.softmax(torch.from_numpy(rng.normal(0, 2, (n * n, 2)).astype(np.float32)),
                              -1)
        results.append(dict(nodes=nodes, edges=edges))
        texts.append([f"t{i}" for i in range(n)])
    theirs = mmocr_ref.call(REF, "edge_pairs", results=results, texts=texts)
    assert sum(len(t) for t in theirs) > 20                 # pairs were found and drawn
    for result, words, want in zip(results, texts, theirs):
        ours, key = [], None
        for k, v, score in key_value_pairs(result["nodes"].numpy(), result["edges"].numpy()):
            if k != key:
                ours.append(("text", words[k]))
                key = k
            ours += [("score", f"{score:.2f}"), ("text", words[v])]
        assert ours == [tuple(x) for x in want]
