"""DRRGTargets against MMOCR 0.6.3's on the same polygons and numpy seed: the seven maps and
the component attributes (NMS-merged, labelled, jittered, padded with random background
components), through the numpy draws of several images in a row."""
import numpy as np
import torch

from ocr_ds.datasets.pipelines.targets.drrg import DRRGTargets
from parity import assert_close, ref_file

REF = ref_file(__file__, "mmocr_drrg.py")
MAPS = ("gt_text_mask", "gt_center_region_mask", "gt_mask", "gt_top_height_map",
        "gt_bot_height_map", "gt_sin_map", "gt_cos_map")


def poly(*xy):
    return torch.tensor(xy, dtype=torch.float32)


CASES = [
    # a curved 14-point line, a quad, a steep (vertical) quad, one ignored region
    ((112, 128), [poly(8, 20, 30, 14, 52, 12, 74, 12, 96, 16, 112, 24, 118, 30,
                       110, 44, 94, 36, 74, 30, 52, 30, 30, 32, 12, 38, 6, 32),
                  poly(14, 60, 84, 64, 82, 84, 12, 80),
                  poly(100, 56, 120, 58, 116, 104, 96, 102)],
     [poly(20, 90, 60, 90, 60, 104, 20, 104)]),
    # one short word: fewer components than num_min_comps, random ones added
    ((128, 128), [poly(70, 90, 100, 90, 100, 104, 70, 104)], []),
    # no text: only random components
    ((96, 96), [], []),
]


def test_drrg_targets_equal_mmocr(mmocr_ref):
    theirs = mmocr_ref.call(REF, "targets", cases=CASES, seed=5)
    np.random.seed(5)
    step = DRRGTargets()
    for i, ((h, w), polys, ignored) in enumerate(CASES):
        ours = step(dict(img_shape=(h, w, 3), gt_masks=[p.numpy() for p in polys],
                         gt_masks_ignore=[p.numpy() for p in ignored]))
        for key in MAPS:
            assert ours[key].dtype == theirs[i][key].numpy().dtype, key
            assert_close(torch.from_numpy(ours[key]), theirs[i][key], rtol=0, atol=1e-5,
                         what=f"case {i} {key}")
        attribs = torch.from_numpy(ours["gt_comp_attribs"])
        ref = theirs[i]["gt_comp_attribs"]
        assert int(ref[0, 0]) >= 9, "fewer components than num_min_comps"
        assert_close(attribs, ref, what=f"case {i} gt_comp_attribs")
