"""Label convertors of the recognisers (text <-> class indices <-> tensors), one per decoding
kind: ``ctc`` (CTCConvertor), ``attn`` (BaseConvertor, AttnConvertor). Built by name through :data:`ocr_ds.registry.COMPONENTS`."""
