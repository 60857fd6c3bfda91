"""SATRN (Self-Attention Text Recognition Network, https://arxiv.org/abs/1910.04396), as MMOCR
0.6.3 builds it: ``SATRN`` = ``ShallowCNN`` -> ``SatrnEncoder`` (adaptive 2-D positional
encoding, self-attention over every position of the map, locality-aware feed-forward) ->
``NRTRDecoder`` (:mod:`..nrtr.decoder`), ``TFLoss``, ``AttnConvertor``. Imported by name
through :mod:`ocr_ds.registry`.
"""
