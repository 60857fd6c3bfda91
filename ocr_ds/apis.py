"""MMOCR 0.6.3's Python API (``mmocr.apis``) on ocr_ds's models.

A script written against MMOCR changes one import::

    from ocr_ds.apis import init_detector, model_inference    # was: from mmocr.apis import ...

    model = init_detector('configs/textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py',
                          'work_dirs/dbnet/latest.pth', device='cpu')
    result = model_inference(model, 'demo.jpg')      # {'boundary_result': [[x1, y1, ..., s]]}
    model.show_result('demo.jpg', result, out_file='demo_out.jpg')

``init_detector`` builds any model of the zoo (detector, recogniser, KIE, NER) from a config
file or :class:`~ocr_ds.config.Config` and a checkpoint (ours: a ``.pth`` or a DeepSpeed
checkpoint directory; MMOCR's ``.pth``; an http(s) URL, cached as mmcv does); the model carries
its config as ``model.cfg``. ``model_inference`` runs image files or arrays through the config's
test pipeline as one batch (``batch_mode`` drops a recogniser's test-time rotation), with a KIE
model's annotations (``ann``), and returns what MMOCR's returns (one result, or a list for a
list of images; with ``return_data`` the pipeline's samples too). ``text_model_inference`` runs
a NER model on a sentence. Detectors, recognisers and KIE models draw a result with
``model.show_result`` as MMOCR's do (:func:`ocr_ds.engine.show.show_result`). MMOCR's config
helpers, ``tensor2grayimgs`` and ``init_random_seed`` are at the end.

Differs from MMOCR (README, "Python API"): an array call leaves ``model.cfg`` as it was; a
checkpoint that lacks some of the model's tensors is an error (MMOCR warns and keeps the random
ones); a checkpoint without ``CLASSES`` leaves ``model.CLASSES`` unset (MMOCR sets COCO's 80
class names and warns).
"""
from __future__ import annotations

import copy
import os
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ocr_ds.config import Config
from ocr_ds.errors import UserError


def model_family(model_cfg: Mapping[str, Any]) -> str:
    """'textdet', 'textrecog', 'kie' or 'ner': the family of the model a config builds."""
    from ocr_ds import registry

    name = (model_cfg or {}).get("type", "")
    if not isinstance(name, str) or name not in registry.MODELS:
        return ""
    # by where the class and its bases live: a user's model (custom_imports) subclasses ours
    modules = [c.__module__ for c in registry.resolve(registry.MODELS, name, "model.type").__mro__]
    return next((k for m in modules for k in ("textdet", "textrecog", "kie", "ner")
                 if m.startswith(f"ocr_ds.models.{k}.")), "")


def init_detector(config: str | os.PathLike | Config, checkpoint: str | None = None,
                  device: str | torch.device = "cuda:0", cfg_options: Mapping | None = None,
                  allow_unsafe_pickle: bool = False) -> torch.nn.Module:
    """The config's model with the checkpoint's weights, on ``device``, in eval mode, with
    ``model.cfg`` (MMOCR's ``init_detector``; ``allow_unsafe_pickle`` as the commands'
    ``--allow-unsafe-pickle``, for a checkpoint that is not weights-only)."""
    from ocr_ds import registry
    from ocr_ds.models.common.init import cached_url
    from ocr_ds.tools._infer_common import build_with_weights, load_weights

    if isinstance(config, (str, os.PathLike)):
        if not os.path.isfile(config):
            raise UserError(f"config: file not found (got {str(config)!r})")
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError(f"config must be a filename or Config object, but got {type(config)}")
    if cfg_options is not None:
        config.merge_from_dict(dict(cfg_options))
    model_cfg = copy.deepcopy(dict(config["model"]))
    model_cfg.pop("pretrained", None)               # MMOCR: model.pretrained = None
    if "train_cfg" in model_cfg:                    # MMOCR: model.train_cfg = None
        model_cfg["train_cfg"] = None
    meta: dict[str, Any] = {}
    if checkpoint is None:
        model = registry.build(registry.MODELS, model_cfg, "model").eval()
    else:
        if str(checkpoint).startswith(("http://", "https://")):
            checkpoint = cached_url(str(checkpoint), "checkpoint")
        state, meta = load_weights(str(checkpoint), allow_unsafe_pickle)
        model = build_with_weights(model_cfg, state, f"checkpoint {checkpoint}")
    if isinstance(meta, Mapping) and "CLASSES" in meta:
        model.CLASSES = meta["CLASSES"]
    model.cfg = config
    return model.to(device).eval()


def _first_pipeline(cfg: Mapping[str, Any], default: Sequence[dict]) -> list[dict]:
    """The config's test pipeline (of a 2-d list, the first), else ``default``."""
    from ocr_ds.tools._infer_common import test_pipeline

    steps = test_pipeline(cfg, default)
    if steps and isinstance(steps[0], (list, tuple)):
        steps = list(steps[0])
    return steps


def inference_pipeline(cfg: Mapping[str, Any], default: Sequence[dict], batch_mode: bool,
                       from_files: bool = False) -> list[dict]:
    """The test pipeline ``model_inference`` runs on arrays: the first step made
    ``LoadImageFromNdarray`` (kept with ``from_files``), ``ImageToTensor`` made
    ``DefaultFormatBundle``, and in batch mode a recognition pipeline's ``MultiRotateAugOCR``
    unwrapped (``disable_text_recog_aug_test``)."""
    steps = _first_pipeline(cfg, default)
    test_type = ((cfg.get("data") or {}).get("test") or {}).get("type")
    if batch_mode and test_type in RECOG_DATASETS:
        steps = drop_rotation(steps)
    steps = replace_steps_image_to_tensor(steps)
    if steps and not from_files:
        steps[0] = dict(steps[0], type="LoadImageFromNdarray")
    return steps


def model_test_pipeline(model: torch.nn.Module, arrays: bool, batch_mode: bool) -> Any:
    """``model.cfg``'s test pipeline as ``model_inference`` runs it (arrays or files)."""
    from ocr_ds.datasets.pipelines.compose import Compose
    from ocr_ds.tools.infer_det import DEFAULT_TEST_PIPELINE as DET_PIPELINE
    from ocr_ds.tools.infer_recog import DEFAULT_TEST_PIPELINE as RECOG_PIPELINE

    cfg = model.cfg
    default = dict(textdet=DET_PIPELINE, textrecog=RECOG_PIPELINE).get(
        model_family(cfg["model"]), [])
    steps = inference_pipeline(cfg, default, batch_mode, from_files=not arrays)
    if not steps:
        raise UserError("model.cfg: data.test.pipeline: expected the test pipeline (got none)")
    return Compose(steps, "data.test.pipeline")


def _to(device: torch.device, value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, list):
        return [_to(device, v) for v in value]
    return value


def run_batch(model: torch.nn.Module, pipeline: Any, imgs: Sequence[Any],
              ann: Mapping | None = None) -> tuple[list, list]:
    """``imgs`` (all file names or all arrays) through ``pipeline`` and ``model`` as one batch
    (on the model's device): the results and the pipeline's samples."""
    batch, datas = prepare_batch(model, pipeline, imgs, ann)
    with torch.no_grad():
        return model(batch, return_loss=False), datas


def prepare_batch(model: torch.nn.Module, pipeline: Any, imgs: Sequence[Any],
                  ann: Mapping | None = None) -> tuple[dict, list]:
    """``imgs`` through ``pipeline``, collated on the model's device: the batch and the
    pipeline's samples."""
    from ocr_ds.datasets.collate import collate

    datas = []
    for img in imgs:
        if isinstance(img, np.ndarray):
            data = dict(img=img, ann_info=ann, bbox_fields=[], mask_fields=[], seg_fields=[],
                        img_prefix=None, img_info=dict(width=img.shape[1], height=img.shape[0]))
        else:
            data = dict(img_info=dict(filename=img), img_prefix=None, ann_info=ann,
                        bbox_fields=[], mask_fields=[], seg_fields=[])
        if ann is not None:
            data.update(dict(**ann))
        datas.append(pipeline(data))
    if isinstance(datas[0]["img"], list) and len(datas) > 1:
        raise Exception(f"aug test does not support inference with batch size {len(datas)}")
    device = next(model.parameters()).device
    return {k: _to(device, v) for k, v in collate(datas).items()}, datas


def model_inference(model: torch.nn.Module, imgs: Any, ann: Mapping | None = None,
                    batch_mode: bool = False, return_data: bool = False) -> Any:
    """Results of ``imgs`` (a file name or array, or a list or tuple of them: then a list of
    results) as MMOCR's ``model_inference``: each image through ``model.cfg``'s test pipeline
    (``LoadImageFromNdarray`` for arrays), all as one batch; ``batch_mode`` drops a
    recogniser's test-time rotation; ``ann``: a KIE model's boxes, texts and relations."""
    if isinstance(imgs, (list, tuple)):
        is_batch = True
        if len(imgs) == 0:
            raise Exception("empty imgs provided, please check and try again")
        if not isinstance(imgs[0], (np.ndarray, str)):
            raise AssertionError("imgs must be strings or numpy arrays")
    elif isinstance(imgs, (np.ndarray, str)):
        imgs, is_batch = [imgs], False
    else:
        raise AssertionError("imgs must be strings or numpy arrays")
    pipeline = model_test_pipeline(model, isinstance(imgs[0], np.ndarray), batch_mode)
    results, datas = run_batch(model, pipeline, imgs, ann)
    if not is_batch:
        return (results[0], datas[0]) if return_data else results[0]
    return (results, datas) if return_data else results


def text_model_inference(model: torch.nn.Module, input_sentence: str) -> Any:
    """A NER model's entities in ``input_sentence`` (MMOCR's ``text_model_inference``):
    ``[[[label, start, end], ...]]``."""
    from ocr_ds.datasets.collate import collate
    from ocr_ds.datasets.pipelines.compose import Compose

    assert isinstance(input_sentence, str)
    pipeline = Compose(_first_pipeline(model.cfg, []), "data.test.pipeline")
    batch = collate([pipeline({"text": input_sentence, "label": {}})])
    with torch.no_grad():
        return model(batch, return_loss=False)


# -- mmocr.apis.utils: test-time config edits, and images back from a batch ----------------------
# data.test types whose test-time rotation batch inference drops
RECOG_DATASETS = ("ConcatDataset", "UniformConcatDataset", "OCRDataset", "OCRSegDataset")


def _is_2dlist(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(item, list) for item in x)


def _is_dict_list(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(item, Mapping) for item in x)


def replace_steps_image_to_tensor(steps: Sequence[Mapping]) -> list:
    """mmdet's ``replace_ImageToTensor``: each ``ImageToTensor`` step (also inside a
    ``MultiScaleFlipAug``) becomes ``DefaultFormatBundle``, for batches."""
    steps = copy.deepcopy(list(steps))
    for i, step in enumerate(steps):
        if step["type"] == "MultiScaleFlipAug":
            step["transforms"] = replace_steps_image_to_tensor(step["transforms"])
        elif step["type"] == "ImageToTensor":
            warnings.warn('"ImageToTensor" pipeline is replaced by "DefaultFormatBundle" for '
                          "batch inference. It is recommended to manually replace it in the "
                          "test data pipeline in your config file.", UserWarning)
            steps[i] = {"type": "DefaultFormatBundle"}
    return steps


def drop_rotation(steps: list) -> list:
    """A recognition pipeline without its ``MultiRotateAugOCR`` (second step) wrapper."""
    if len(steps) > 1 and steps[1]["type"] == "MultiRotateAugOCR":
        warnings.warn('Remove "MultiRotateAugOCR" to support batch inference since '
                      "samples_per_gpu > 1.")
        return [steps[0], *steps[1]["transforms"]]
    return steps


def _edit_pipelines(cfg: Any, set_types: list | None, edit: Any, only: tuple = ()) -> Any:
    """``cfg`` copied, with ``edit`` applied to every pipeline of ``data.<set_type>`` (its
    own, each of a 2-d list, each member dataset's) for ``set_types`` (default val, test);
    with ``only``, to those sets whose dataset type is in it."""
    assert set_types is None or isinstance(set_types, list)
    cfg = copy.deepcopy(cfg)
    for set_type in set_types or ["val", "test"]:
        assert set_type in ["val", "test"]
        data = cfg["data"][set_type]
        if only and data.get("type") not in only:
            continue
        pipeline = data.get("pipeline")
        if _is_dict_list(pipeline) and pipeline:
            data["pipeline"] = edit(pipeline)
        elif _is_2dlist(pipeline):
            data["pipeline"] = [edit(p) for p in pipeline]
        for dataset in data.get("datasets", []):
            for member in dataset if isinstance(dataset, list) else [dataset]:
                if member.get("pipeline"):
                    member["pipeline"] = edit(member["pipeline"])
    return cfg


def replace_image_to_tensor(cfg: Any, set_types: list | None = None) -> Any:
    """MMOCR's: a copy of ``cfg`` whose val/test pipelines have ``DefaultFormatBundle`` for
    ``ImageToTensor`` (batch inference)."""
    return _edit_pipelines(cfg, set_types, replace_steps_image_to_tensor)


def disable_text_recog_aug_test(cfg: Any, set_types: list | None = None) -> Any:
    """MMOCR's: a copy of ``cfg`` whose recognition val/test pipelines (OCRDataset,
    OCRSegDataset and concatenations) drop ``MultiRotateAugOCR`` (batch inference)."""
    return _edit_pipelines(cfg, set_types, drop_rotation, RECOG_DATASETS)


def tensor2grayimgs(tensor: torch.Tensor, mean: Sequence[float] = (127, ),
                    std: Sequence[float] = (127, ), **kwargs: Any) -> list[np.ndarray]:
    """MMOCR's: a normalised ``(N, 1, H, W)`` batch back to N uint8 gray images."""
    import cv2

    assert torch.is_tensor(tensor) and tensor.ndim == 4
    assert tensor.size(1) == len(mean) == len(std) == 1
    mean64 = np.array(mean, np.float32).reshape(1, -1).astype(np.float64)
    std64 = np.array(std, np.float32).reshape(1, -1).astype(np.float64)
    imgs = []
    for img in tensor.cpu().numpy().transpose(0, 2, 3, 1):
        img = cv2.multiply(img, std64)                  # mmcv's imdenormalize
        cv2.add(img, mean64, img)
        imgs.append(np.ascontiguousarray(img.astype(np.uint8)))
    return imgs


def init_random_seed(seed: int | None = None, device: str = "cuda") -> int:
    """MMOCR's: ``seed``, or one drawn on rank 0 and shared by every rank."""
    from ocr_ds.engine.seed import init_random_seed as shared_seed

    return shared_seed(seed)
