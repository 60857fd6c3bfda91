"""``MASTER`` (MMOCR 0.6.3's ``recognizer/master.py``): the encoder-decoder recogniser under
MASTER's name; its parts are in :mod:`.resnet`, :mod:`.plugins` and :mod:`.decoder`."""
from __future__ import annotations

from ocr_ds.models.textrecog.recognizer import EncodeDecodeRecognizer


class MASTER(EncodeDecodeRecognizer):
    """MASTER: an :class:`EncodeDecodeRecognizer` with MMOCR's name."""
