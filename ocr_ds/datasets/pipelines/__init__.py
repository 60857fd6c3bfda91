"""Data pipeline steps shared by the tasks, and :class:`Compose` that chains them.

A step is a callable ``step(results: dict) -> dict``; ``results`` starts as the dataset's
``dict(img_info=..., img_prefix=..., ...)`` and ends as the sample (``img`` tensor + ``img_metas``).
Steps are named in configs (``dict(type='ResizeOCR', height=32, ...)``) and resolved through
:data:`ocr_ds.registry.PIPELINES`. By MMOCR convention the first step loads the image (which is
where ``--mc-config`` injects its ``file_client_args``).
"""
from ocr_ds.datasets.pipelines.compose import Compose

__all__ = ["Compose"]
