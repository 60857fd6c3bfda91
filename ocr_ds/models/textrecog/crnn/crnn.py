"""``CRNNNet``: CTC-based text recogniser (backbone -> decoder -> CTC), MMOCR 0.x's CRNN.

Built from the same config as MMOCR's::

    model = dict(type='CRNNNet', preprocessor=None,
                 backbone=dict(type='VeryDeepVgg', leaky_relu=False, input_channels=1),
                 encoder=None,
                 decoder=dict(type='CRNNDecoder', in_channels=512, rnn_flag=True),
                 loss=dict(type='CTCLoss'),
                 label_convertor=dict(type='CTCConvertor', dict_type='DICT36',
                                      with_unknown=False, lower=True))

The module tree and build order are MMOCR's ``EncodeDecodeRecognizer``'s (``preprocessor``:
CRNN-TPS's ``TPSPreprocessor`` or None; ``backbone``, ``decoder``, ``loss``; ``encoder`` None),
so MMOCR's checkpoints load and a seeded build initialises as MMOCR's. Forward keeps the
engine's contract (:mod:`ocr_ds.models`): training returns ``{'loss_ctc': tensor}``; testing
returns ``[{'text', 'score', 'char_scores'}, ...]`` where ``score`` is the mean of the
per-character scores (0.0 for an empty prediction; MMOCR returns the list of character scores as
``score``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, RECOGNISER_SHOW_ARGS, ShowResultMixin
from ocr_ds.models.textrecog.recognizer import test_with_views
from ocr_ds.registry import COMPONENTS, build


def valid_ratios(img_metas: Sequence[Mapping[str, Any]], batch_width: int) -> list[float]:
    """MMOCR's ``resize_shape[1] / batch width`` (1.0 when the crop's width is unknown)."""
    ratios = []
    for meta in img_metas:
        shape = meta.get("resize_shape")
        ratios.append(1.0 * shape[1] / batch_width if shape is not None else
                      float(meta.get("valid_ratio", 1.0)))
    return ratios


class CRNNNet(ShowResultMixin, BaseModule):
    """CRNN recogniser, structured as MMOCR's (an encode-decode recogniser without encoder).

    Args:
        backbone: Backbone config (``VeryDeepVgg``).
        decoder: Decoder config (``CRNNDecoder``); ``num_classes``, ``start_idx``,
            ``padding_idx`` and ``max_seq_len`` are filled in as MMOCR does.
        loss: Loss config (``CTCLoss``); ``ignore_index`` is filled in as MMOCR does.
        label_convertor: Convertor config (``CTCConvertor``); ``max_seq_len`` filled in.
        preprocessor: Preprocessor config (``TPSPreprocessor`` in CRNN-TPS), or None.
            Defaults to None.
        encoder: Must be None (CRNN has none).
        max_seq_len: Passed to the convertor and decoder. Defaults to 40.
        init_cfg: As any ``BaseModule``'s. Defaults to None.
        train_cfg, test_cfg: Accepted for MMOCR configs; unused.
        pretrained: Refused: give the checkpoint to ``--load-from`` (or ``load_from``).
    """

    show_args = RECOGNISER_SHOW_ARGS

    def __init__(self, backbone: Mapping[str, Any], decoder: Mapping[str, Any],
                 loss: Mapping[str, Any], label_convertor: Mapping[str, Any],
                 preprocessor: Mapping[str, Any] | None = None,
                 encoder: Mapping[str, Any] | None = None, train_cfg: Any = None,
                 test_cfg: Any = None, max_seq_len: int = 40, pretrained: Any = None,
                 init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        if encoder is not None:
            raise UserError(f"model.encoder: CRNNNet has no encoder (got {encoder!r})")
        if pretrained is not None:
            raise UserError("model.pretrained: not supported; use --load-from or load_from")
        # built in MMOCR's order (convertor, preprocessor, backbone, decoder, loss): a seeded
        # build draws MMOCR's random numbers
        self.label_convertor = build(COMPONENTS, label_convertor, "model.label_convertor",
                                     max_seq_len=max_seq_len)
        self.preprocessor = None
        if preprocessor is not None:
            self.preprocessor = build(COMPONENTS, preprocessor, "model.preprocessor")
        self.backbone = build(COMPONENTS, backbone, "model.backbone")
        self.encoder = None
        convertor = self.label_convertor
        self.decoder = build(COMPONENTS, decoder, "model.decoder",
                             num_classes=convertor.num_classes(), start_idx=convertor.start_idx,
                             padding_idx=convertor.padding_idx, max_seq_len=max_seq_len)
        self.loss = build(COMPONENTS, loss, "model.loss", ignore_index=convertor.padding_idx)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.max_seq_len = max_seq_len

    def extract_feat(self, img: torch.Tensor) -> torch.Tensor:
        if self.preprocessor is not None:
            img = self.preprocessor(img)
        return self.backbone(img)

    def forward(self, batch: Mapping[str, Any], return_loss: bool = True):
        img = batch["img"]
        # MMOCR writes valid_ratio into the metas; a copy keeps the batch as it came
        img_metas = [dict(m) for m in batch["img_metas"]]
        if return_loss:
            return self.forward_train(img, self._with_ratios(img, img_metas))
        # test-time rotation (MultiRotateAugOCR's views): the best view, as MMOCR's aug_test
        return test_with_views(lambda x, metas: self.simple_test(
            x, self._with_ratios(x, metas)), img, img_metas)

    @staticmethod
    def _with_ratios(img: torch.Tensor, img_metas: list[dict]) -> list[dict]:
        for meta, ratio in zip(img_metas, valid_ratios(img_metas, img.size(-1))):
            meta["valid_ratio"] = ratio
        return img_metas

    def forward_train(self, img: torch.Tensor, img_metas: list[dict]) -> dict[str, torch.Tensor]:
        """``{'loss_ctc': tensor}`` for a batch whose metas carry ``text``."""
        feat = self.extract_feat(img)
        try:
            texts = [meta["text"] for meta in img_metas]
        except KeyError:
            raise UserError("CRNNNet: training samples need 'text' in img_metas; add 'text' "
                            "to Collect.meta_keys of the train pipeline") from None
        targets = self.label_convertor.str2tensor(texts)
        out_dec = self.decoder(feat, None, targets, img_metas, train_mode=True)
        return self.loss(out_dec, targets, img_metas)

    def test_outputs(self, img: torch.Tensor, img_metas: list[dict]) -> torch.Tensor:
        """The decoder's test output, before CTC decoding: what an ONNX export computes
        (:mod:`ocr_ds.deployment` swaps this for an ONNX Runtime session)."""
        return self.decoder(self.extract_feat(img), None, None, img_metas, train_mode=False)

    @torch.no_grad()
    def simple_test(self, img: torch.Tensor, img_metas: list[dict]) -> list[dict[str, Any]]:
        """``[{'text', 'score' (mean of the characters'), 'char_scores'}, ...]``."""
        return self.postprocess(self.test_outputs(img, img_metas), img_metas)

    def postprocess(self, out_dec: torch.Tensor, img_metas: list[dict]) -> list[dict[str, Any]]:
        """Decoder outputs -> texts and scores (greedy CTC decoding)."""
        indexes, scores = self.label_convertor.tensor2idx(out_dec, img_metas)
        texts = self.label_convertor.idx2str(indexes)
        return [{"text": text, "score": float(sum(s) / len(s)) if s else 0.0, "char_scores": s}
                for text, s in zip(texts, scores)]
