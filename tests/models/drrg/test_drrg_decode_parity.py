"""DRRG's test time against MMOCR 0.6.3 on crafted maps: the proposed text components
(lanms-neo), their local graphs, the GCN's edges and scores, and the boundaries
DRRGPostprocessor makes of them (as a set: MMOCR's cluster order changes from run to run);
then the post-processor alone on crafted graphs (repeated and long edges, link threshold)."""
import os

import numpy as np
import torch

from ocr_ds import registry
from ocr_ds.config import Config
from parity import assert_close, ref_file

REF = ref_file(__file__, "mmocr_drrg.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
CONFIG = "textdet/drrg/drrg_r50_fpn_unet_1200e_ctw1500.py"
torch.set_num_threads(1)


def head_cfg():
    return Config.fromfile(os.path.join(REPO, "configs", CONFIG)).to_dict()["model"][
        "bbox_head"]


def crafted_features(rng, h, w, lines, channels=32):
    """Neck features whose first 6 channels are the head's maps (out_conv is made the
    identity on them): text and center logits of straight lines (top, bottom, x0, x1, slope),
    heights 7, direction up the slope; random content elsewhere."""
    feats = rng.normal(0, 1, (1, channels, h, w)).astype(np.float32)
    ys, xs = np.mgrid[0:h, 0:w]
    text = np.full((h, w), -4.0)
    center = np.full((h, w), -4.0)
    sin = np.full((h, w), -1.0)
    cos = np.zeros((h, w))
    for top, bot, x0, x1, slope in lines:
        shift = (xs - x0) * slope
        inside = (ys >= top + shift) & (ys <= bot + shift) & (xs >= x0) & (xs <= x1)
        mid = (top + bot) / 2 + shift
        text[inside] = 4.0
        center[inside & (np.abs(ys - mid) <= 3) & (xs >= x0 + 4) & (xs <= x1 - 4)] = 4.0
        norm = np.hypot(1, slope)
        sin[inside], cos[inside] = -1 / norm, slope / norm
    feats[0, 0] = text + rng.normal(0, 0.2, (h, w))
    feats[0, 1] = center + rng.normal(0, 0.2, (h, w))
    feats[0, 2] = sin + rng.normal(0, 0.05, (h, w))
    feats[0, 3] = cos + rng.normal(0, 0.05, (h, w))
    feats[0, 4] = 7 + rng.normal(0, 0.3, (h, w))
    feats[0, 5] = 7 + rng.normal(0, 0.3, (h, w))
    return torch.from_numpy(feats)


def assert_same_boundaries(ours, theirs, what):
    """The same boundaries in any order: points exactly, scores to float32 precision."""
    ours = sorted([float(v) for v in b] for b in ours)
    theirs = sorted([float(v) for v in b] for b in theirs)
    assert [b[:-1] for b in ours] == [b[:-1] for b in theirs], what
    assert np.allclose([b[-1] for b in ours], [b[-1] for b in theirs], rtol=1e-6), what


def test_drrg_decoding_equals_mmocr(mmocr_ref):
    rng = np.random.RandomState(0)
    cfg = head_cfg()
    torch.manual_seed(0)
    head = registry.build(registry.COMPONENTS, cfg, "model.bbox_head")
    head.init_weights()
    with torch.no_grad():       # maps = the first 6 feature channels; links mostly > 0.8
        head.out_conv.weight.zero_()
        head.out_conv.bias.zero_()
        head.out_conv.weight[:, :6, 0, 0] = torch.eye(6)
        head.gcn.classifier[2].weight.mul_(0.5)
        head.gcn.classifier[2].bias.copy_(torch.tensor([0.0, 1.8]))
    head.eval()
    cases = [
        # two lines more than 50 px apart (edges between them are cut), one of them slanted
        (crafted_features(rng, 96, 112, [(8, 28, 10, 102, 0.0), (60, 80, 10, 70, 0.15)]),
         torch.tensor([0.5, 0.5, 0.5, 0.5])),
        # no text: no components, no boundary
        (crafted_features(rng, 32, 32, []), torch.tensor([1.0, 1.0, 1.0, 1.0])),
    ]
    state = {k: v.clone() for k, v in head.state_dict().items()}
    theirs = mmocr_ref.call(REF, "decode", head_cfg=cfg, state=state, cases=cases)
    for i, ((feats, scale), ref) in enumerate(zip(cases, theirs)):
        with torch.no_grad():
            pred_maps = head.out_conv(feats)
            none, graph = head.graph_test(pred_maps, torch.cat([feats, pred_maps], 1))
            edges, scores, comps = head.single_test(feats)
        assert none == ref["none"], f"case {i}: components found by one side only"
        if not none:
            assert len(comps) > 9, "too few components to test the graphs"
            # node features are differences of pooled values up to ~8: a few float32 ulps
            # (the bilinear sums' order) apart
            for j, key in enumerate(("node_feats", "adjacent", "knn", "local_graphs", "comps")):
                assert_close(torch.as_tensor(graph[j]), ref[key], atol=2e-5,
                             what=f"case {i} {key}")
            assert_close(torch.from_numpy(edges), ref["edges"], what=f"case {i} edges")
            assert_close(torch.from_numpy(scores), ref["scores"], what=f"case {i} scores")
        ours = head.get_boundary(edges, scores, comps, dict(scale_factor=scale.numpy()))
        assert len(ours["boundary_result"]) == (2 if i == 0 else 0)
        assert_same_boundaries(ours["boundary_result"], ref["boundaries"], f"case {i}")


def test_drrg_postprocessor_equals_mmocr(mmocr_ref):
    """Crafted graphs: chains of boxes, edges listed twice (scores averaged in turn), edges
    longer than 50 px (cut), scores at the link threshold, a lone component (dropped)."""
    rng = np.random.RandomState(1)
    cases = []
    for n in (6, 14, 25):
        cx = np.cumsum(rng.uniform(4, 30, n))
        cy = 40 + 10 * np.sin(cx / 40) + rng.uniform(-2, 2, n)
        half_w, half_h = rng.uniform(3, 6, n), rng.uniform(6, 10, n)
        boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy - half_h,
                          cx + half_w, cy + half_h, cx - half_w, cy + half_h], 1)
        comps = np.hstack([boxes, rng.uniform(0.5, 1, (n, 1))]).astype(np.float32)
        pivots = np.repeat(np.arange(n), 3)
        neighbors = np.clip(pivots + np.tile([-1, 1, 2], n), 0, n - 1)
        edges = np.stack([pivots, neighbors], 1)
        scores = rng.choice([0.5, 0.8, 0.85, 0.95], len(edges))
        cases.append((torch.from_numpy(edges), torch.from_numpy(scores),
                      torch.from_numpy(comps)))
    theirs = mmocr_ref.call(REF, "postprocess", link_thr=0.8, cases=cases)
    post = registry.build(registry.COMPONENTS, dict(type="DRRGPostprocessor", link_thr=0.8),
                          "postprocessor")
    total = 0
    for (edges, scores, comps), ref in zip(cases, theirs):
        ours = post(edges.numpy(), scores.numpy(), comps.numpy())
        total += len(ours)
        assert_same_boundaries(ours, ref, f"{len(comps)} components")
    assert total >= 3


def test_untrained_head_proposes_no_component():
    """An untrained head calls every pixel text (scores ~0.5) with ~0.01 px heights: MMOCR
    would propose a component per pixel that lanms never merges (hours on a test image);
    components under MIN_COMP_HEIGHT are not proposed, so nothing is decoded."""
    torch.manual_seed(0)
    head = registry.build(registry.COMPONENTS, head_cfg(), "model.bbox_head")
    head.init_weights()
    head.eval()
    feats = torch.relu(torch.randn(1, 32, 48, 64))
    with torch.no_grad():
        maps = head.out_conv(feats)
        assert float(torch.sigmoid(maps[0, :2]).min()) > 0.45
        assert float(maps[0, 4:].abs().max()) < 0.5
        edges, scores, comps = head.single_test(feats)
    assert edges is None and scores is None and comps is None
    assert head.get_boundary(edges, scores, comps, {}) == dict(boundary_result=[])
