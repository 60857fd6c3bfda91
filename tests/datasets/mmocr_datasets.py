"""Ref side (MMOCR 0.6.3 venv): MMOCR's dataset classes on the files the test wrote."""
import copy

import numpy as np
from mmocr.datasets import build_dataset
from mmocr.datasets.icdar_dataset import IcdarDataset
from mmocr.datasets.ocr_dataset import OCRDataset
from mmocr.datasets.text_det_dataset import TextDetDataset


def _plain(value):
    """numpy arrays -> lists with dtype name, so both sides compare the same way."""
    if isinstance(value, np.ndarray):
        return dict(array=value.tolist(), dtype=str(value.dtype), shape=list(value.shape))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _det_summary(ds, evals, with_ann_info):
    out = dict(len=len(ds), ann_file=ds.ann_file, img_prefix=ds.img_prefix,
               samples=[_plain(ds[i]) for i in range(len(ds))])
    if with_ann_info:
        out["ann_infos"] = [_plain(ds.get_ann_info(i)) for i in range(len(ds))]
    out["evals"] = [ds.evaluate(copy.deepcopy(e["results"]), **e["kwargs"]) for e in evals]
    return out


def icdar(variants):
    """``IcdarDataset(**kwargs)`` (pipeline []) for each variant ``{kwargs, evals}``."""
    return [_det_summary(IcdarDataset(pipeline=[], **v["kwargs"]), v.get("evals", []), True)
            for v in variants]


def text_det(variants):
    return [_det_summary(TextDetDataset(pipeline=[], **copy.deepcopy(v["kwargs"])),
                         v.get("evals", []), False) for v in variants]


def ocr(variants):
    """len, every annotation (or those at ``indices``) and evaluations of ``OCRDataset``s."""
    out = []
    for v in variants:
        ds = OCRDataset(pipeline=[], **copy.deepcopy(v["kwargs"]))
        indices = v.get("indices") or range(len(ds))
        out.append(dict(len=len(ds), infos=[ds.data_infos[i] for i in indices],
                        evals=[ds.evaluate(e["results"], **e["kwargs"])
                               for e in v.get("evals", [])]))
        if hasattr(ds.data_infos.ori_data_infos, "env"):
            ds.data_infos.close()  # lmdb refuses a second open of one path in a process
    return out


def recog2lmdb(**kwargs):
    """MMOCR 0.6.3's own lmdb writer."""
    from mmocr.utils.lmdb_util import recog2lmdb as convert
    convert(**kwargs)


def concat(variants):
    """``UniformConcatDataset`` built from a config as MMOCR's builder does."""
    out = []
    for v in variants:
        ds = build_dataset(copy.deepcopy(v["cfg"]))
        out.append(dict(
            len=len(ds), show_mean_scores=ds.show_mean_scores,
            pipelines=[[type(t).__name__ for t in d.pipeline.transforms] for d in ds.datasets],
            test_mode=[d.test_mode for d in ds.datasets],
            evals=[ds.evaluate(e["results"], **e["kwargs"]) for e in v.get("evals", [])]))
    return out
