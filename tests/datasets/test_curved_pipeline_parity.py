"""The CTW1500 transforms and the TextSnake / FCENet targets against MMOCR 0.6.3's own code:
the same sample and the same numpy seed give MMOCR's image, polygons and maps."""
import numpy as np
import pytest
import torch

from curved_polys import scene_polygons
from ocr_ds import registry
from parity import assert_close, ref_file

REF = ref_file(__file__, "mmocr_curved_pipelines.py")

STEPS = [
    dict(type="RandomScaling", size=200, scale=(3. / 4, 5. / 2)),
    dict(type="RandomCropFlip", crop_ratio=0.5, iter_num=1, min_area_ratio=0.2),
    dict(type="RandomCropFlip", pad_ratio=0.2, crop_ratio=1.0, iter_num=2, min_area_ratio=0.1),
    dict(type="RandomCropPolyInstances", instance_key="gt_masks", crop_ratio=0.8,
         min_side_ratio=0.3),
    dict(type="RandomRotatePolyInstances", rotate_ratio=0.5, max_angle=30,
         pad_with_fixed_color=False),
    dict(type="RandomRotatePolyInstances", rotate_ratio=1.0, max_angle=20,
         pad_with_fixed_color=True, pad_value=(10, 20, 30)),
    dict(type="SquareResizePad", target_size=96, pad_ratio=0.6),
]
SEEDS = list(range(8))


def _sample(seed=0, h=120, w=160):
    rng = np.random.RandomState(seed)
    img = rng.normal(0, 1, (h, w, 3)).astype(np.float32)      # as after Normalize
    polys, ignore = scene_polygons(seed, h, w)
    return img, polys, ignore


def _ours(cfg, img, polys, ignore, seed):
    step = registry.build(registry.PIPELINES, cfg, "pipeline")
    h, w = img.shape[:2]
    res = dict(img=img.copy(), img_shape=img.shape, mask_fields=["gt_masks", "gt_masks_ignore"],
               gt_masks=[p.copy() for p in polys], gt_masks_ignore=[p.copy() for p in ignore],
               gt_labels=np.arange(len(polys)))
    np.random.seed(seed)
    res = step(res)
    return dict(img=res["img"], polys=list(res["gt_masks"]), ignore=list(res["gt_masks_ignore"]),
                labels=np.asarray(res["gt_labels"]).tolist())


def test_transforms_equal_mmocr_for_the_same_seed(mmocr_ref):
    img, polys, ignore = _sample()
    theirs = mmocr_ref.call(REF, "transforms", steps=STEPS, img=torch.from_numpy(img),
                            polys=[torch.from_numpy(p) for p in polys],
                            ignore=[torch.from_numpy(p) for p in ignore], seeds=SEEDS)
    changed = 0
    for cfg, runs in zip(STEPS, theirs):
        for seed, ref in zip(SEEDS, runs):
            out = _ours(cfg, img, polys, ignore, seed)
            what = f"{cfg['type']} seed {seed}"
            assert out["img"].dtype == ref["img"].numpy().dtype, what
            assert_close(torch.from_numpy(np.ascontiguousarray(out["img"])), ref["img"],
                         rtol=0, atol=1e-5, what=f"{what} image")
            assert_close([torch.from_numpy(p) for p in out["polys"]], ref["polys"], rtol=0,
                         atol=0, what=f"{what} polygons")
            assert_close([torch.from_numpy(p) for p in out["ignore"]], ref["ignore"], rtol=0,
                         atol=0, what=f"{what} ignored polygons")
            assert out["labels"] == ref["labels"], what
            changed += out["img"].shape != img.shape or not np.array_equal(out["img"], img)
    assert changed > len(STEPS) * len(SEEDS) // 3      # the random branches were taken


def test_square_resize_pad_fixed_colour_on_uint8(mmocr_ref):
    """Fixed-colour padding (MMOCR's canvas is uint8: equal on uint8 images)."""
    img, polys, ignore = _sample(1, 90, 140)
    img = (np.abs(img) * 60).astype(np.uint8)
    cfg = dict(type="SquareResizePad", target_size=64, pad_ratio=1.0, pad_with_fixed_color=True,
               pad_value=(1, 2, 3))
    ref = mmocr_ref.call(REF, "transforms", steps=[cfg], img=torch.from_numpy(img),
                         polys=[torch.from_numpy(p) for p in polys],
                         ignore=[torch.from_numpy(p) for p in ignore], seeds=[0])[0][0]
    out = _ours(cfg, img, polys, ignore, 0)
    assert np.array_equal(out["img"], ref["img"].numpy())
    assert_close([torch.from_numpy(p) for p in out["polys"]], ref["polys"], rtol=0, atol=0)


@pytest.mark.parametrize("cfg,integer", [
    (dict(type="TextSnakeTargets"), True),
    (dict(type="TextSnakeTargets", orientation_thr=1.5, resample_step=3.0,
          center_region_shrink_ratio=0.4), False),
    # float polygons: on integer ones MMOCR's choice of the start point among tied points
    # follows numpy's (unstable, version-dependent) sort
    (dict(type="FCENetTargets", fourier_degree=5,
          level_proportion_range=((0, 0.25), (0.2, 0.65), (0.55, 1.0))), False),
], ids=["textsnake", "textsnake-args", "fcenet"])
def test_targets_equal_mmocr(mmocr_ref, cfg, integer):
    h, w = 128, 192
    polys, ignore = scene_polygons(3, h, w, integer=integer)
    big, _ = scene_polygons(4, h, w, integer=integer)
    polys = polys + [np.array([5, 5, 180, 8, 182, 120, 4, 118], np.float32), big[1] * 0.9]
    theirs = mmocr_ref.call(REF, "targets", cfg=cfg, img_shape=(h, w, 3),
                            polys=[torch.from_numpy(p) for p in polys],
                            ignore=[torch.from_numpy(p) for p in ignore])
    step = registry.build(registry.PIPELINES, cfg, "pipeline")
    res = step(dict(img=np.zeros((h, w, 3), np.uint8), img_shape=(h, w, 3),
                    gt_masks=[p.copy() for p in polys], gt_masks_ignore=list(ignore),
                    mask_fields=["gt_masks", "gt_masks_ignore"]))
    assert sorted(theirs) == sorted(k for k in theirs if k in res)
    for key, ref in theirs.items():
        ours = torch.from_numpy(np.ascontiguousarray(res[key]))
        assert ours.dtype == ref.dtype, key
        assert_close(ours, ref, rtol=1e-5, atol=1e-5, what=key)
        assert ref.abs().sum() > 0, key             # every map has content
    assert set(theirs) <= set(res["seg_fields"])
