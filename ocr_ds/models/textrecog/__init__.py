"""Text recognition models: what all recognisers share (``dictionary``, ``convertors/``,
``losses/``) and one folder per family (``crnn/``).

Modules are imported by name through :data:`ocr_ds.registry.MODELS` / ``COMPONENTS``; nothing
is imported here so that naming one part does not load the others.
"""
