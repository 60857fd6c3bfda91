"""Models: plain PyTorch ``nn.Module`` classes, knowing nothing of DeepSpeed.

The contract every model keeps (the engine relies on nothing else):

* ``forward(batch: dict, return_loss: bool = True)``.
  ``batch`` is what :func:`ocr_ds.datasets.collate.collate` made of a list of samples:
  ``batch['img']`` a float tensor ``(N, C, H, W)``, ``batch['img_metas']`` a list of N dicts,
  plus any training targets the pipeline produced (NER batches have no image: their
  ``img_metas`` carry the token tensors).
* Training (``return_loss=True``): returns a ``dict`` of named scalar tensors. Every key
  containing ``'loss'`` is summed into the loss that is back-propagated (mmcv's
  ``parse_losses``); other keys (e.g. ``'acc'``) are only logged.
* Testing (``return_loss=False``): returns a list of N plain per-sample prediction dicts,
  in batch order (recognition: ``{'text': str, 'score': float}``; detection:
  ``{'boundary_result': [[x1, y1, ..., xn, yn, score], ...]}``; named entity recognition,
  MMOCR's list of ``[category, start, end]`` entities), which the dataset's ``evaluate``
  consumes.
* Float inputs arrive in the engine's compute dtype (fp32, or bf16/fp16 when DeepSpeed casts
  the module); a model must not assume fp32 inputs beyond what its layers need.

Models are built by name through :data:`ocr_ds.registry.MODELS`.
"""
