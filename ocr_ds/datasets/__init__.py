"""Datasets: map-style ``torch.utils.data.Dataset`` classes, knowing nothing of DeepSpeed.

The contract every dataset keeps:

* ``__len__`` / ``__getitem__(i) -> dict``: a sample after the pipeline, with ``'img'``
  (a float tensor ``(C, H, W)``), ``'img_metas'`` (a dict: ``filename``, ``ori_shape``,
  ``img_shape``, ... ) and any training targets as tensors or plain values.
* ``collate_fn`` (optional attribute): how a list of samples becomes a batch; defaults to
  :func:`ocr_ds.datasets.collate.collate`.
* ``evaluate(results: list, metric=None, logger=None, **kwargs) -> dict[str, float]``:
  ``results`` are the model's per-sample predictions in dataset order (one per index).
* ``test_mode`` (constructor argument): pipelines for evaluation, no training targets.

Datasets are built by name through :data:`ocr_ds.registry.DATASETS`.
"""
