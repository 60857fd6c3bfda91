"""ABINet (MMOCR 0.6.3): :mod:`.abinet` (the recogniser with iterative correction),
:mod:`.backbone` (``ResNetABI``), :mod:`.vision` (``ABIVisionModel``, ``TransformerEncoder``,
``ABIVisionDecoder``), :mod:`.language` (``ABILanguageDecoder``, ``ABIFuser``) and :mod:`.loss`
(``ABILoss``, ``ABIConvertor``)."""
