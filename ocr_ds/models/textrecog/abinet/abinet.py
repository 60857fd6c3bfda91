"""``ABINet`` (MMOCR 0.6.3's ``recognizer/abinet.py``): vision model, then ``iter_size`` rounds
of language-model correction and fusion.

    feat = backbone(img)
    out_enc = encoder(feat)                       # ABIVisionModel: feature, logits, attn_scores
    logits = out_enc['logits']
    repeat iter_size times:
        out_dec = decoder(feat, logits, ...)      # ABILanguageDecoder on softmax(logits)
        out_fuser = fuser(out_enc['feature'], out_dec['feature'])
        logits = out_fuser['logits']              # the next round corrects the fused guess

Training returns ``ABILoss`` over all of it (``loss_visual``, ``loss_lang``, ``loss_fusion``);
testing decodes ``softmax`` of the last fuser's logits (else the last language model's, else
the vision model's: ``abinet_vision_only_academic.py`` has neither decoder nor fuser) with the
convertor. Built in MMOCR's order (convertor, preprocessor, backbone, encoder, decoder, loss,
fuser), so a seeded build draws MMOCR's initial weights.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from ocr_ds.errors import UserError
from ocr_ds.models.textrecog.recognizer import (EncodeDecodeRecognizer, set_valid_ratios,
                                                texts_of)
from ocr_ds.registry import COMPONENTS, build


class ABINet(EncodeDecodeRecognizer):
    """ABINet.

    Args:
        preprocessor, backbone, encoder, decoder, loss, label_convertor, train_cfg, test_cfg,
            max_seq_len, pretrained, init_cfg: as :class:`EncodeDecodeRecognizer`; the decoder
            (the language model) may be None.
        iter_size: Rounds of language correction. Defaults to 1.
        fuser: The fuser's config, or None. Defaults to None.
    """

    def __init__(self, preprocessor: Mapping | None = None, backbone: Mapping | None = None,
                 encoder: Mapping | None = None, decoder: Mapping | None = None,
                 iter_size: int = 1, fuser: Mapping | None = None, loss: Mapping | None = None,
                 label_convertor: Mapping | None = None, train_cfg: Any = None,
                 test_cfg: Any = None, max_seq_len: int = 40, pretrained: str | None = None,
                 init_cfg: Any = None):
        super(EncodeDecodeRecognizer, self).__init__(init_cfg=init_cfg)
        for name, value in (("label_convertor", label_convertor), ("backbone", backbone),
                            ("loss", loss)):
            if value is None:
                raise UserError(f"model.{name}: expected a dict with a 'type' key (got None)")
        if decoder is not None and encoder is None:
            raise UserError("model.encoder: the language model (model.decoder) corrects the "
                            "vision model's guess: expected an encoder dict (got None)")
        if fuser is not None and decoder is None:
            raise UserError("model.decoder: the fuser mixes the language model's features: "
                            "expected a decoder dict (got None)")
        if not isinstance(max_seq_len, int) or isinstance(max_seq_len, bool) or max_seq_len < 1:
            raise UserError(f"model.max_seq_len: expected a positive integer (got {max_seq_len!r})")
        if not isinstance(iter_size, int) or isinstance(iter_size, bool) or iter_size < 1:
            raise UserError(f"model.iter_size: expected a positive integer (got {iter_size!r})")
        self.label_convertor = build(COMPONENTS, label_convertor, "model.label_convertor",
                                     max_seq_len=max_seq_len)
        self.preprocessor = None
        if preprocessor is not None:
            self.preprocessor = build(COMPONENTS, preprocessor, "model.preprocessor")
        self.backbone = build(COMPONENTS, backbone, "model.backbone")
        self.encoder = None
        if encoder is not None:
            self.encoder = build(COMPONENTS, encoder, "model.encoder")
        self.decoder = None
        if decoder is not None:
            conv = self.label_convertor
            self.decoder = build(COMPONENTS, decoder, "model.decoder",
                                 num_classes=conv.num_classes(), start_idx=conv.start_idx,
                                 padding_idx=conv.padding_idx, max_seq_len=max_seq_len)
        self.loss = build(COMPONENTS, loss, "model.loss")
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.max_seq_len = max_seq_len
        if pretrained is not None:
            self.init_cfg = dict(type="Pretrained", checkpoint=pretrained, prefix="")
        self.iter_size = iter_size
        self.fuser = None
        if fuser is not None:
            self.fuser = build(COMPONENTS, fuser, "model.fuser")

    def _run(self, img: torch.Tensor, img_metas: list[dict],
             targets_dict: Mapping[str, Any] | None) -> dict[str, Any]:
        """Vision model, then ``iter_size`` rounds of language model + fuser."""
        set_valid_ratios(img_metas, img.size(-1))
        feat = self.extract_feat(img)
        out_enc, text_logits = None, None
        if self.encoder is not None:
            out_enc = self.encoder(feat)
            text_logits = out_enc["logits"]
        out_decs, out_fusers = [], []
        train_mode = targets_dict is not None
        for _ in range(self.iter_size):
            if self.decoder is not None:
                out_dec = self.decoder(feat, text_logits, targets_dict, img_metas,
                                       train_mode=train_mode)
                out_decs.append(out_dec)
            if self.fuser is not None:
                out_fuser = self.fuser(out_enc["feature"], out_dec["feature"])
                text_logits = out_fuser["logits"]
                out_fusers.append(out_fuser)
        return dict(out_enc=out_enc, out_decs=out_decs, out_fusers=out_fusers)

    def forward_train(self, img: torch.Tensor, img_metas: list[dict]) -> dict[str, torch.Tensor]:
        targets_dict = self.label_convertor.str2tensor(texts_of(img_metas, "ABINet"))
        return self.loss(self._run(img, img_metas, targets_dict), targets_dict, img_metas)

    def test_outputs(self, img: torch.Tensor, img_metas: list[dict]) -> torch.Tensor:
        """The last stage's character probabilities (what an ONNX export computes)."""
        outputs = self._run(img, img_metas, None)
        if outputs["out_fusers"]:
            ret = outputs["out_fusers"][-1]
        elif outputs["out_decs"]:
            ret = outputs["out_decs"][-1]
        else:
            ret = outputs["out_enc"]
        return ret["logits"].softmax(dim=-1)

    def simple_test(self, img: torch.Tensor, img_metas: list[dict]) -> list[dict[str, Any]]:
        return self.postprocess(self.test_outputs(img, img_metas), img_metas)
