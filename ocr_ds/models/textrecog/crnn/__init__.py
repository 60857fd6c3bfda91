"""CRNN (Shi et al., "An End-to-End Trainable Neural Network for Image-based Sequence
Recognition"), as MMOCR 0.6.3 builds it: ``crnn`` (CRNNNet), ``vgg`` (VeryDeepVgg), ``decoder``
(CRNNDecoder and its BidirectionalLSTM). Its CTC loss and convertor are shared by recognisers:
:mod:`ocr_ds.models.textrecog.losses.ctc`, :mod:`ocr_ds.models.textrecog.convertors.ctc`.

Nothing is imported here: :data:`ocr_ds.registry` names each module.
"""
