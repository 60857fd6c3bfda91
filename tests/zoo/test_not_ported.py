"""MMOCR 0.6.3 configs of what ocr_ds does not have (README "Not ported") are refused with a
line that says so, naming every MMOCR part the config asks for, exit 2, nothing written: not a
bare "unknown 'OCRMaskRCNN'" that reads like a typo."""
from __future__ import annotations

import os

import pytest

from ocr_ds.errors import run_cli

# MMOCR's config (relative to its configs/) -> its lines: config key, MMOCR name, what it is part of
NOT_PORTED = {
    "kie/sdmgr/sdmgr_novisual_60e_wildreceipt.py": [
        ("model.type", "SDMGR", "key information extraction (SDMGR)"),
        ("data.train.type", "KIEDataset", "key information extraction (SDMGR)")],
}


@pytest.mark.parametrize("name", sorted(NOT_PORTED))
def test_mmocr_config_of_a_family_not_ported_says_so(name, mmocr_configs, tmp_path, monkeypatch,
                                                    capsys):
    from ocr_ds.train import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: main([os.path.join(mmocr_configs, name), "--dry-run",
                              "--work-dir", str(tmp_path / "wd")]))
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert "Traceback" not in err and os.listdir(tmp_path) == []
    lines = err.splitlines()
    assert all(line.startswith("error: ") for line in lines), err
    for key, mmocr_name, part in NOT_PORTED[name]:
        assert any(line.startswith(f"error: {key}: '{mmocr_name}' is MMOCR 0.6.3's, part of "
                                   f"{part}, which ocr_ds does not have (README: Not ported); "
                                   f"expected one of: ") for line in lines), err
