"""TorchServe handler of a text detector or recogniser (MMOCR 0.6.3's
``tools/deployment/mmocr_handler.py``): :mod:`ocr_ds.tools.deployment.mmocr2torchserve` packs this
file into the ``.mar`` as ``mmocr_handler.py``; TorchServe's worker imports it there, so the
serving environment needs ``ocr_ds`` and ``torchserve`` (``pip install 'ocr_ds[serve]'``).

Each request's body (raw image bytes, or base64 text) is decoded as MMOCR's ``mmcv.imfrombytes``
does, the batch goes through :func:`ocr_ds.apis.model_inference`, and each request gets its
image's result as JSON: ``{"boundary_result": [[x1, y1, ..., score], ...]}`` for a detector,
``{"text": ..., "score": ..., "char_scores": [...]}`` for a recogniser, as MMOCR's handler
answers (``char_scores`` is ours, as in every recognition result here). Differs: a body that is
not an image is answered with HTTP 400 and a one-line message naming the request (MMOCR's
handler fails the whole batch), and a batch of several crops is read by a recogniser (MMOCR's
asserts on more than one: TorchServe's ``batch_size`` > 1).
"""
from __future__ import annotations

import base64
import binascii
import os

import torch
from ts.torch_handler.base_handler import BaseHandler

from ocr_ds.apis import init_detector, model_inference
from ocr_ds.datasets.pipelines.loading import imfrombytes


class MMOCRHandler(BaseHandler):
    threshold = 0.5

    def initialize(self, context):
        properties = context.system_properties
        self.map_location = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(
            f"{self.map_location}:{properties.get('gpu_id')}" if torch.cuda.is_available()
            else self.map_location)
        self.manifest = context.manifest
        model_dir = properties.get("model_dir")
        checkpoint = os.path.join(model_dir, self.manifest["model"]["serializedFile"])
        self.config_file = os.path.join(model_dir, "config.py")
        self.model = init_detector(self.config_file, checkpoint, self.device)
        self.initialized = True

    def preprocess(self, data):
        images = []
        for i, row in enumerate(data):
            raw = image = row.get("data") or row.get("body")
            if isinstance(image, str):
                try:
                    image = base64.b64decode(image)
                except binascii.Error:
                    pass
            decoded = imfrombytes(image) if isinstance(image, (bytes, bytearray)) else None
            if decoded is None:
                from ts.utils.util import PredictionException
                got = ("no body" if not raw else
                       f"{len(raw)} characters of text that are no image's base64"
                       if isinstance(raw, str) else
                       f"{len(raw)} bytes that do not decode as an image")
                raise PredictionException(f"request {i} of the batch: expected an image file's "
                                          f"bytes (or their base64 text) as the body; got {got}",
                                          400)
            images.append(decoded)
        return images

    def inference(self, data, *args, **kwargs):
        return model_inference(self.model, data)

    def postprocess(self, data):
        return data
