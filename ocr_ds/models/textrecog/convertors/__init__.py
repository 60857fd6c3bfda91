"""Label convertors of the recognisers (text <-> class indices <-> tensors), one per decoding
kind: ``ctc`` (CTCConvertor), ``attn`` (BaseConvertor, AttnConvertor), ``seg``
(SegConvertor). Built by name through :data:`ocr_ds.registry.COMPONENTS`."""
