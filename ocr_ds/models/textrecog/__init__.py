"""Text recognition models (CRNN: ``VeryDeepVgg`` + ``CRNNDecoder`` + CTC).

Modules are imported by name through :data:`ocr_ds.registry.MODELS` / ``COMPONENTS``; nothing
is imported here so that naming one part does not load the others.
"""
