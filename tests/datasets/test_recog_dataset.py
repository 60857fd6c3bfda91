"""OCRDataset end to end, bad data (skip / fail fast), evaluation, ConcatDataset prefixes."""
import logging

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from ocr_ds import fileio
from ocr_ds.datasets.collate import collate
from ocr_ds.datasets.concat import ConcatDataset, UniformConcatDataset
from ocr_ds.errors import UserError
from ocr_ds.registry import DATASETS, build
from ocr_ds.tools.to_lmdb import write_recog_lmdb

PIPELINE = [
    dict(type="LoadImageFromFile", color_type="grayscale"),
    dict(type="ResizeOCR", height=32, min_width=100, max_width=100, keep_aspect_ratio=False),
    dict(type="Normalize", mean=[127], std=[127]),
    dict(type="DefaultFormatBundle"),
    dict(type="Collect", keys=["img"], meta_keys=["filename", "resize_shape", "text",
                                                   "valid_ratio"]),
]
LMDB_PIPELINE = [dict(type="LoadImageFromLMDB", color_type="grayscale")] + PIPELINE[1:]


def _png(value=128):
    return cv2.imencode(".png", np.full((20, 50), value, np.uint8))[1].tobytes()


@pytest.fixture
def folder(tmp_path):
    """Five annotations: two good, a missing image, an unknown character, a broken image,
    plus a blank line and a line without text."""
    for name in ("a.png", "b.png", "c.png"):
        (tmp_path / name).write_bytes(_png())
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "label.txt").write_text(
        "a.png hello\nmissing.png gone\nb.png h\u00e9llo\nbroken.png oops\n\nc.png\nc.png world\n")
    return tmp_path


def _dataset(folder, **kwargs):
    cfg = dict(type="OCRDataset", ann_file=str(folder / "label.txt"), img_prefix=str(folder),
               pipeline=PIPELINE, charset="DICT36", **kwargs)
    return build(DATASETS, cfg, "data.train")


def test_sample_contract(folder):
    ds = _dataset(folder)
    sample = ds[0]
    assert sample["img"].shape == (1, 32, 100) and sample["img"].dtype == torch.float32
    meta = sample["img_metas"]
    assert meta["text"] == "hello" and meta["filename"] == str(folder / "a.png")
    assert meta["ori_shape"] == (20, 50) and meta["resize_shape"] == (32, 100)
    assert meta["valid_ratio"] == 1.0


def test_bad_samples_are_skipped_with_one_warning_per_kind(folder, caplog):
    ds = _dataset(folder)
    assert len(ds) == 7
    with caplog.at_level(logging.WARNING, logger="ocr_ds"):
        texts = [ds[i]["img_metas"]["text"] for i in range(len(ds))]
        texts += [ds[i]["img_metas"]["text"] for i in range(len(ds))]  # second pass: no new log
    # each bad index is replaced by the next valid one: the length stays 7
    assert texts[:7] == ["hello", "world", "world", "world", "world", "world", "world"]
    assert len(ds) == 7
    assert dict(ds.skipped.counts) == {  # per requested index, over the two passes
        "missing image": 2, "character outside the charset": 2, "undecodable image": 2,
        "empty annotation": 2, "malformed annotation": 2}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 5  # one per kind
    assert any("label.txt:3" in w and "character outside the charset" in w for w in warnings)


@pytest.mark.parametrize("index,where", [
    (1, "missing.png"), (2, "label.txt:3"), (3, "broken.png"), (4, "label.txt:5"),
    (5, "label.txt:6")])
def test_fail_fast_names_file_and_line(folder, index, where):
    ds = _dataset(folder, skip_invalid=False)
    with pytest.raises(UserError, match=where):
        ds[index]


def test_test_mode_keeps_every_slot_and_evaluates_readable_annotations(folder):
    ds = _dataset(folder, test_mode=True)
    samples = [ds[i] for i in range(len(ds))]
    assert samples[1]["img_metas"].get("invalid") is True  # missing image -> blank crop
    assert samples[1]["img"].shape == (1, 32, 100)
    assert samples[2]["img_metas"]["text"] == "h\u00e9llo"  # test sets keep any character
    preds = [{"text": t} for t in ("hello", "gone", "xx", "oops", "?", "?", "world")]
    metrics = ds.evaluate(preds, metric="acc")
    # lines 5 (blank) and 6 (no text) are left out: 4 of 5 words right
    assert metrics["word_acc"] == 0.8
    assert set(metrics) == {"word_acc", "word_acc_ignore_case", "word_acc_ignore_case_symbol",
                            "char_recall", "char_precision", "1-N.E.D"}
    assert ds.evaluate(preds, metric=["word_acc"]) == {"word_acc": 0.8}


def test_lmdb_dataset_with_images_and_worker_processes(tmp_path):
    db = tmp_path / "db"
    texts = [f"w{i}" for i in range(6)]
    write_recog_lmdb(str(db), texts, [_png(i * 40) for i in range(6)])
    ds = build(DATASETS, dict(
        type="OCRDataset", ann_file=str(db), img_prefix=str(db), pipeline=LMDB_PIPELINE,
        loader=dict(type="AnnFileLoader", file_format="lmdb",
                    parser=dict(type="LineJsonParser", keys=["filename", "text"]))), "data.train")
    assert ds[0]["img_metas"]["text"] == "w0"  # the parent has the environment open now...
    loader = DataLoader(ds, batch_size=3, num_workers=2, collate_fn=collate,
                        multiprocessing_context="fork")
    got = [t for batch in loader for t in (m["text"] for m in batch["img_metas"])]
    assert got == texts  # ...and forked workers open their own
    fileio.close_lmdb_environment(db)


def test_concat_prefixes_and_mean(folder):
    good = folder / "good.txt"
    good.write_text("a.png hello\nb.png world\n")
    member = dict(type="OCRDataset", ann_file=str(good), img_prefix=str(folder), pipeline=None,
                  test_mode=True)
    ds = build(DATASETS, dict(type="UniformConcatDataset", datasets=[member, member],
                              pipeline=PIPELINE), "data.val")
    assert len(ds) == 4 and ds.datasets[1].pipeline is not None
    assert ds[3]["img_metas"]["filename"] == str(folder / "b.png")
    metrics = ds.evaluate([{"text": t} for t in ("hello", "world", "hello", "nope")])
    assert metrics["0_word_acc"] == 1.0 and metrics["1_word_acc"] == 0.5
    assert metrics["mean_word_acc"] == 0.75
    assert {k.split("_", 1)[0] for k in metrics} == {"0", "1", "mean"}
    assert len(metrics) == 18
    single = UniformConcatDataset([member], pipeline=PIPELINE)  # show_mean_scores='auto'
    assert set(single.evaluate([{"text": "hello"}, {"text": "world"}])) == {
        "0_word_acc", "0_word_acc_ignore_case", "0_word_acc_ignore_case_symbol",
        "0_char_recall", "0_char_precision", "0_1-N.E.D"}
    forced = UniformConcatDataset([member], pipeline=PIPELINE, show_mean_scores=True)
    assert forced.evaluate([{"text": "hello"}, {"text": "x"}])["mean_word_acc"] == 0.5
    member_with_pipeline = dict(member, pipeline=PIPELINE)
    plain = build(DATASETS, dict(type="ConcatDataset", datasets=[member_with_pipeline] * 2),
                  "data.val")  # mmdet's: no means
    assert "mean_word_acc" not in plain.evaluate([{"text": "hello"}] * 4)
    with pytest.raises(UserError, match="get_mean: not an MMOCR argument; use show_mean_sc"):
        UniformConcatDataset([member], pipeline=PIPELINE, get_mean=False)
    with pytest.raises(UserError, match="show_mean_scores: expected True, False or 'auto'"):
        UniformConcatDataset([member], pipeline=PIPELINE, show_mean_scores="yes")


def test_concat_nested_lists_and_errors(folder):
    good = folder / "good.txt"
    good.write_text("a.png hello\n")
    member = dict(type="OCRDataset", ann_file=str(good), img_prefix=str(folder), pipeline=None)
    ds = UniformConcatDataset([[member], [member, member]], pipeline=[PIPELINE, PIPELINE])
    assert len(ds) == 3 and ds[2]["img"].shape == (1, 32, 100)
    with pytest.raises(UserError, match="UniformConcatDataset.datasets"):
        UniformConcatDataset([])
    with pytest.raises(UserError, match=r"datasets\.0\.type"):
        ConcatDataset([dict(type="Nope")])


def test_dataset_config_errors(folder):
    with pytest.raises(UserError, match="file not found"):
        build(DATASETS, dict(type="OCRDataset", ann_file=str(folder / "x.txt")), "data.train")
    with pytest.raises(UserError, match="charset"):
        build(DATASETS, dict(type="OCRDataset", ann_file=str(folder / "label.txt"), charset=42),
              "data.train")
