"""Every model MMOCR 0.6.3 trains, ocr_ds trains: each of MMOCR's own config files (outside
``_base_``) is a row of the zoo test (trained for 2 iterations and evaluated), or is listed here
with the rows that train what it says: every setting the run reads (model, data, optimizer,
schedule, evaluation; data file paths aside) equals that setting in one of those rows. A config
MMOCR adds to that set, or a row dropped from the zoo, fails here, not silently."""
from __future__ import annotations

import os
from typing import Any, Iterator

import pytest

from ocr_ds.config import Config
from test_mmocr_configs import CONFIGS

# configs without a row of their own -> the rows that train every setting they have
TRAINED_BY_OTHER_ROWS = {
    # ICDAR 2017's Mask R-CNN is ICDAR 2015's with other data paths
    "textdet/maskrcnn/mask_rcnn_r50_fpn_160e_icdar2017.py":
        ["textdet/maskrcnn/mask_rcnn_r50_fpn_160e_icdar2015.py"],
    # DBNet-R18 (the ICDAR 2015 row) on SynthText with the 100k-iteration schedule (the R50 row)
    "textdet/dbnet/dbnet_r18_fpnc_100k_iters_synthtext.py":
        ["textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py",
         "textdet/dbnet/dbnet_r50dcnv2_fpnc_100k_iters_synthtext.py"],
}
# what a run reads (the rest of a file is helper variables of its _base_ files)
RUN_KEYS = ("model", "data", "optimizer", "optimizer_config", "lr_config", "runner",
            "total_epochs", "evaluation", "fp16", "custom_hooks", "load_from")
PATHS = ("ann_file", "img_prefix", "data_root", "db_path")


def _settings(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(key path, value) of every setting below ``value``; data file paths left out."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k not in PATHS:
                yield from _settings(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _settings(v, f"{path}[{i}]")
    else:
        yield path, value


def _run_settings(configs_dir: str, name: str) -> dict[str, Any]:
    cfg = Config.fromfile(os.path.join(configs_dir, name)).to_dict()
    return dict(s for k in RUN_KEYS if k in cfg for s in _settings(cfg[k], k))


def test_every_mmocr_config_is_trained_by_the_zoo(mmocr_configs):
    shipped = sorted(
        os.path.relpath(os.path.join(d, f), mmocr_configs)
        for d, dirs, files in os.walk(mmocr_configs) if "_base_" not in d.split(os.sep)
        for f in files if f.endswith(".py"))
    assert len(shipped) == 43, shipped  # MMOCR 0.6.3's own count: a wrong directory is not a pass
    untrained = [c for c in shipped if c not in CONFIGS and c not in TRAINED_BY_OTHER_ROWS]
    assert not untrained, f"MMOCR configs no zoo row trains: {untrained}"
    assert not [c for c in shipped if CONFIGS.get(c, "") is None]
    assert not set(CONFIGS) - set(shipped), set(CONFIGS) - set(shipped)
    assert not set(CONFIGS) & set(TRAINED_BY_OTHER_ROWS)


@pytest.mark.parametrize("name", sorted(TRAINED_BY_OTHER_ROWS))
def test_a_config_without_a_row_has_only_settings_other_rows_train(name, mmocr_configs):
    rows = TRAINED_BY_OTHER_ROWS[name]
    assert all(row in CONFIGS for row in rows), rows
    trained = [_run_settings(mmocr_configs, row) for row in rows]
    settings = _run_settings(mmocr_configs, name)
    assert len(settings) > 50  # a whole config, not an empty read
    untrained = {k: v for k, v in settings.items()
                 if not any(k in t and t[k] == v for t in trained)}
    assert not untrained, f"{name}: settings no row in {rows} trains: {untrained}"
