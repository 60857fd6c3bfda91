"""The encoder-decoder recogniser (MMOCR 0.6.3's ``BaseRecognizer`` + ``EncodeDecodeRecognizer``).

Built from MMOCR's model dicts::

    model = dict(type='SARNet', preprocessor=None, backbone=dict(type='ResNet31OCR'),
                 encoder=dict(type='SAREncoder', ...), decoder=dict(type='ParallelSARDecoder', ...),
                 loss=dict(type='SARLoss'), label_convertor=dict(type='AttnConvertor', ...),
                 max_seq_len=30)

in MMOCR's order and with MMOCR's wiring: the convertor gets the model's ``max_seq_len``; the
decoder gets ``num_classes``, ``start_idx``, ``padding_idx`` and ``max_seq_len`` from it; the
loss ignores ``padding_idx``. Construction order is MMOCR's too (convertor, preprocessor,
backbone, encoder, decoder, loss), so a seeded build draws the same initial weights.

Forward keeps the engine's contract (:mod:`ocr_ds.models`). Both modes first set each sample's
``valid_ratio`` to ``resize_shape[1] / batch width`` (MMOCR's; the meta's own ``valid_ratio``,
else 1.0, when ``resize_shape`` is missing), then ``backbone -> encoder -> decoder``:

* training: teacher forcing on the convertor's targets, then the loss dict
  (e.g. ``{'loss_ce': ...}``);
* testing: greedy decoding, then ``[{'text', 'score', 'char_scores'}, ...]``: MMOCR's list of
  character scores is ``char_scores``; ``score`` is the number MMOCR's test-time augmentation
  reports, ``sum(char_scores) / max(1, len(text))`` (the mean character score unless the text
  holds ``<UKN>`` tokens; 0.0 for an empty text).

Test-time rotation (``MultiRotateAugOCR``) arrives as extra views in ``img_metas``
(``aug_views``); they are decoded in the same forward (so ZeRO-3 ranks stay in lockstep) and the
view with the best mean score wins, as MMOCR's ``aug_test``.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import torch

from ocr_ds.datasets.collate import pad_stack
from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, RECOGNISER_SHOW_ARGS, ShowResultMixin
from ocr_ds.registry import COMPONENTS, build


def set_valid_ratios(img_metas: Sequence[dict], batch_width: int) -> None:
    """MMOCR's ``valid_ratio = resize_shape[1] / batch width``, written into each meta."""
    for meta in img_metas:
        shape = meta.get("resize_shape")
        if shape is not None:
            meta["valid_ratio"] = 1.0 * shape[1] / batch_width
        else:
            meta["valid_ratio"] = float(meta.get("valid_ratio", 1.0))


def texts_of(img_metas: Sequence[Mapping[str, Any]], model: str) -> list[str]:
    """The ground-truth texts of a training batch."""
    try:
        return [meta["text"] for meta in img_metas]
    except KeyError:
        raise UserError(f"{model}: training samples need 'text' in img_metas; add 'text' to "
                        "Collect.meta_keys of the train pipeline") from None


def test_with_views(simple_test: Callable[[torch.Tensor, list[dict]], list[dict[str, Any]]],
                    img: torch.Tensor, img_metas: list[dict]) -> list[dict[str, Any]]:
    """``simple_test(img, img_metas)``; a sample with rotated views (``aug_views`` in its meta,
    from ``MultiRotateAugOCR``) keeps its view with the best ``score`` (the first on a tie), as
    MMOCR's ``aug_test`` + ``merge_aug_results``."""
    views = [meta.pop("aug_views", None) or [] for meta in img_metas]
    if not any(views):
        return simple_test(img, img_metas)
    # one forward for the batch and every extra view, so that every rank (ZeRO-3) runs
    # the same number of forwards whatever its samples; a view is as wide as its sample
    # (ResizeOCR sizes it from the unrotated shape), so the batch width stays the same
    imgs, metas = [*img], list(img_metas)
    for sample_views in views:
        for view in sample_views:
            imgs.append(view["img"].to(img.device, img.dtype))
            metas.append(dict(view["img_metas"]))
    results = simple_test(pad_stack(imgs), metas)
    merged, extra = [], len(img)
    for i, sample_views in enumerate(views):
        candidates = [results[i], *results[extra:extra + len(sample_views)]]
        extra += len(sample_views)
        # MMOCR's merge_aug_results: the first view with the best mean score
        merged.append(max(candidates, key=lambda r: r["score"]))
    return merged


class BaseRecognizer(ShowResultMixin, BaseModule):
    """``forward(batch, return_loss)`` -> ``forward_train`` / ``forward_test``."""

    show_args = RECOGNISER_SHOW_ARGS

    def __init__(self, init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        self.fp16_enabled = False

    def extract_feat(self, img: torch.Tensor) -> Any:
        """The (optional) preprocessor, then the backbone."""
        if self.preprocessor is not None:
            img = self.preprocessor(img)
        return self.backbone(img)

    def forward_train(self, img: torch.Tensor, img_metas: list[dict]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def simple_test(self, img: torch.Tensor, img_metas: list[dict]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def forward_test(self, img: torch.Tensor, img_metas: list[dict]) -> list[dict[str, Any]]:
        """``simple_test``; samples with rotated views (``aug_views``) keep their best view."""
        return test_with_views(self.simple_test, img, img_metas)

    def forward(self, batch: Mapping[str, Any], return_loss: bool = True):
        img = batch["img"]
        # copies: the recogniser writes valid_ratio into them, the batch stays as it was
        img_metas = [dict(meta) for meta in batch["img_metas"]]
        if return_loss:
            return self.forward_train(img, img_metas)
        return self.forward_test(img, img_metas)


class EncodeDecodeRecognizer(BaseRecognizer):
    """Backbone -> encoder -> decoder recogniser with a label convertor.

    Args:
        preprocessor: Preprocessor config (e.g. TPS), or None. Defaults to None.
        backbone: Backbone config.
        encoder: Encoder config, or None. Defaults to None.
        decoder: Decoder config.
        loss: Loss config.
        label_convertor: Convertor config (``AttnConvertor``).
        train_cfg, test_cfg: Kept as attributes. Defaults to None.
        max_seq_len: Longest target / decoded sequence. Defaults to 40.
        pretrained: A local checkpoint for the whole model (MMOCR's deprecated spelling of
            ``init_cfg=dict(type='Pretrained', ...)``). Defaults to None.
        init_cfg: Initialisation config. Defaults to None.
    """

    def __init__(self, preprocessor: Mapping | None = None, backbone: Mapping | None = None,
                 encoder: Mapping | None = None, decoder: Mapping | None = None,
                 loss: Mapping | None = None, label_convertor: Mapping | None = None,
                 train_cfg: Any = None, test_cfg: Any = None, max_seq_len: int = 40,
                 pretrained: str | None = None, init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        for name, value in (("label_convertor", label_convertor), ("backbone", backbone),
                            ("decoder", decoder), ("loss", loss)):
            if value is None:
                raise UserError(f"model.{name}: expected a dict with a 'type' key (got None)")
        if not isinstance(max_seq_len, int) or isinstance(max_seq_len, bool) or max_seq_len < 1:
            raise UserError(f"model.max_seq_len: expected a positive integer (got {max_seq_len!r})")
        self.label_convertor = build(COMPONENTS, label_convertor, "model.label_convertor",
                                     max_seq_len=max_seq_len)
        self.preprocessor = None
        if preprocessor is not None:
            self.preprocessor = build(COMPONENTS, preprocessor, "model.preprocessor")
        self.backbone = build(COMPONENTS, backbone, "model.backbone")
        self.encoder = None
        if encoder is not None:
            self.encoder = build(COMPONENTS, encoder, "model.encoder")
        conv = self.label_convertor
        self.decoder = build(COMPONENTS, decoder, "model.decoder",
                             num_classes=conv.num_classes(), start_idx=conv.start_idx,
                             padding_idx=conv.padding_idx, max_seq_len=max_seq_len)
        self.loss = build(COMPONENTS, loss, "model.loss", ignore_index=conv.padding_idx)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.max_seq_len = max_seq_len
        if pretrained is not None:
            # prefix='': a whole recogniser's checkpoint, not only its backbone
            self.init_cfg = dict(type="Pretrained", checkpoint=pretrained, prefix="")

    def encode_decode(self, img: torch.Tensor, img_metas: list[dict],
                      targets_dict: Mapping[str, Any] | None, train_mode: bool) -> torch.Tensor:
        """``valid_ratio``, features, encoder and decoder: the decoder's ``(N, T, C)`` output."""
        set_valid_ratios(img_metas, img.size(-1))
        feat = self.extract_feat(img)
        out_enc = None
        if self.encoder is not None:
            out_enc = self.encoder(feat, img_metas)
        return self.decoder(feat, out_enc, targets_dict, img_metas, train_mode=train_mode)

    def forward_train(self, img: torch.Tensor, img_metas: list[dict]) -> dict[str, torch.Tensor]:
        targets_dict = self.label_convertor.str2tensor(texts_of(img_metas, type(self).__name__))
        out_dec = self.encode_decode(img, img_metas, targets_dict, train_mode=True)
        return self.loss(out_dec, targets_dict, img_metas)

    def test_outputs(self, img: torch.Tensor, img_metas: list[dict]) -> torch.Tensor:
        """The decoder's test output, before the convertor: what an ONNX export computes
        (:mod:`ocr_ds.deployment` swaps this for an ONNX Runtime session)."""
        return self.encode_decode(img, img_metas, None, train_mode=False)

    def simple_test(self, img: torch.Tensor, img_metas: list[dict]) -> list[dict[str, Any]]:
        set_valid_ratios(img_metas, img.size(-1))
        return self.postprocess(self.test_outputs(img, img_metas), img_metas)

    def postprocess(self, out_dec: torch.Tensor, img_metas: Sequence[dict] | None = None
                    ) -> list[dict[str, Any]]:
        """Decoder outputs -> ``[{'text', 'score', 'char_scores'}, ...]`` via the convertor."""
        indexes, scores = self.label_convertor.tensor2idx(out_dec, img_metas)
        texts = self.label_convertor.idx2str(indexes)
        # MMOCR's merge_aug_results score (the mean character score unless '<UKN>' tokens
        # lengthen the text); 0.0 for an empty text
        return [{"text": text, "score": float(sum(s)) / max(1, len(text)), "char_scores": s}
                for text, s in zip(texts, scores)]
