"""Named entity recognition: MMOCR 0.6.3's BERT NER (``NerClassifier``, ``BertEncoder`` over
MMOCR's own BERT, ``FCDecoder``, masked cross-entropy / focal losses, ``NerConvertor``).

Modules are imported by name through :data:`ocr_ds.registry.MODELS` / ``COMPONENTS``.
"""
