"""The models of ``python -m ocr_ds.tools.ocr``: built from a config and checkpoint (or one of
MMOCR's model names), run on arrays as ``mmocr.apis.model_inference`` runs them."""
from __future__ import annotations

import copy
import os
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ocr_ds.apis import model_family
from ocr_ds.errors import UserError
from ocr_ds.extend import import_custom_modules
from ocr_ds.tools._infer_common import build_with_weights, load_weights, strip_pretrained
from ocr_ds.tools.infer_det import DEFAULT_TEST_PIPELINE as DET_PIPELINE
from ocr_ds.tools.infer_recog import DEFAULT_TEST_PIPELINE as RECOG_PIPELINE
from ocr_ds.tools._ocr_models import KIE_MODELS, TEXTDET_MODELS, TEXTRECOG_MODELS, URL

class Runner:
    """A model with its weights and the test pipelines for arrays (batch mode or not)."""

    def __init__(self, task: str, name: str | None, config: str, ckpt: str, config_dir: str,
                 device: torch.device, allow_unsafe_pickle: bool = False):
        from ocr_ds.models.common.init import cached_url

        table, sub, default, what = dict(
            textdet=(TEXTDET_MODELS, "det", DET_PIPELINE, "a text detector"),
            textrecog=(TEXTRECOG_MODELS, "recog", RECOG_PIPELINE, "a text recogniser"),
            kie=(KIE_MODELS, "kie", [], "a key information extraction model"))[task]
        if name == "Tesseract":
            raise UserError(f"--{sub}: Tesseract is not supported (expected a model name or "
                            "None)")
        if name and name not in table:
            raise UserError(f"--{sub}: unknown model {name!r}; expected one of: "
                            f"{', '.join(sorted(k for k in table if k != 'Tesseract'))}, None")
        if not ckpt:
            if not name:
                raise UserError(f"--{sub}-ckpt: expected a checkpoint (no model name given)")
            ckpt = f"{URL}{task}/{table[name]['ckpt']}"
        if ckpt.startswith(("http://", "https://")):
            ckpt = cached_url(ckpt, f"--{sub}-ckpt")
        state, meta = load_weights(ckpt, allow_unsafe_pickle)
        if config:
            key = f"--{sub}-config"
            cfg = self._config(config, key)
        elif isinstance(meta.get("config"), Mapping):
            key = f"--{sub}-ckpt {ckpt} (its config)"
            cfg = copy.deepcopy(dict(meta["config"]))
            import_custom_modules(cfg)
        elif name:
            key = f"--config-dir ({name})"
            cfg = self._config(os.path.join(config_dir, task, table[name]["config"]), key)
        else:
            raise UserError(f"--{sub}-ckpt: {ckpt} holds no config; give --{sub}-config")
        model_cfg = cfg.get("model")
        if model_family(model_cfg) != task:
            raise UserError(f"{key}: model.type: expected {what} (got "
                            f"{(model_cfg or {}).get('type')!r})")
        self.task, self.cfg, self.device, self.default = task, cfg, device, default
        self.model = build_with_weights(strip_pretrained(model_cfg), state,
                                        f"--{sub}-ckpt {ckpt}").to(device)
        self._pipelines: dict[bool, Any] = {}
        if task == "kie":
            self._kie_setup(cfg, key)

    def _kie_setup(self, cfg: Mapping[str, Any], key: str) -> None:
        """The dictionary (``data.test.dict_file``) and class names (``model.class_list``:
        lines ``INDEX NAME``) of a KIE model."""
        from ocr_ds.datasets.kie.kie_dataset import KIEDataset
        from ocr_ds.engine.show import read_class_list

        test = (cfg.get("data") or {}).get("test") or {}
        if not test.get("dict_file"):
            raise UserError(f"{key}: data.test.dict_file: expected the KIE model's character "
                            "dictionary file (got none)")
        self.kie_dataset = KIEDataset.for_annotations(test["dict_file"])
        class_list = cfg["model"].get("class_list")
        self.classes: dict[str, str] = read_class_list(
            str(class_list), f"{key}: model.class_list") if class_list else {}

    def kie(self, img: np.ndarray, words: Sequence[Mapping[str, Any]]
            ) -> tuple[list[tuple[str, float]], np.ndarray, np.ndarray]:
        """MMOCR's KIE step on one image's words (``box``, ``text``; each box taken as its
        bounding rectangle): each word's class name (or index) and score, the nodes' class
        scores and the boxes the model saw."""
        from ocr_ds.apis import run_batch

        anns = []
        for word in words:
            xs, ys = word["box"][::2], word["box"][1::2]
            anns.append(dict(word, box=[min(xs), min(ys), max(xs), min(ys), max(xs), max(ys),
                                        min(xs), max(ys)]))
        ann = self.kie_dataset._parse_anno_info(anns)
        ann.setdefault("ori_bboxes", ann["bboxes"])
        ann.setdefault("gt_bboxes", ann["bboxes"])
        nodes = run_batch(self.model, self.pipeline(False), [img], ann)[0][0]["nodes"]
        nodes = nodes.detach().cpu()
        scores, indices = torch.max(nodes, -1)
        labels = [(self.classes.get(str(i), str(i)), s)
                  for i, s in zip(indices.numpy().tolist(), scores.numpy().tolist())]
        return labels, nodes.numpy(), ann["bboxes"]

    @staticmethod
    def _config(path: str, key: str) -> dict:
        from ocr_ds.config import Config

        if not os.path.isfile(path):
            raise UserError(f"{key}: config file not found (got {path!r})")
        return Config.fromfile(path).to_dict()

    def pipeline(self, batch_mode: bool) -> Any:
        from ocr_ds.apis import inference_pipeline
        from ocr_ds.datasets.pipelines.compose import Compose

        if batch_mode not in self._pipelines:
            steps = inference_pipeline(self.cfg, self.default, batch_mode)
            self._pipelines[batch_mode] = Compose(steps, "data.test.pipeline")
        return self._pipelines[batch_mode]

    def __call__(self, arrays: Sequence[np.ndarray], batch_mode: bool) -> list[dict]:
        """One forward of ``arrays`` as one batch (``model_inference``)."""
        from ocr_ds.apis import run_batch

        return run_batch(self.model, self.pipeline(batch_mode), arrays)[0]

    def infer(self, arrays: Sequence[np.ndarray], batch_mode: bool, batch_size: int = 0
              ) -> list[dict]:
        """MMOCR's ``single_inference``: one image at a time, or in batches of
        ``batch_size`` (0: all at once) in batch mode."""
        if not batch_mode:
            return [self([a], False)[0] for a in arrays]
        n = batch_size or max(1, len(arrays))
        return [r for i in range(0, len(arrays), n) for r in self(arrays[i:i + n], True)]


def recog_result(pred: Mapping[str, Any]) -> dict[str, Any]:
    """A recogniser's prediction as MMOCR's ``model_inference`` gives it (through its
    recogniser's ``aug_test``): the text and its mean character score."""
    return dict(text=pred["text"], score=pred["score"])
