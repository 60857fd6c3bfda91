"""``ParallelSARDecoderWithBS``: SAR's parallel decoder with beam search at test time (MMOCR
0.6.3's ``decoders/sar_decoder_with_bs.py``); training is the parallel decoder's.

At each of ``max_seq_len`` steps every kept candidate (one at the first step, then
``beam_width``) re-runs the decoder over its characters so far and proposes its
``beam_width`` most probable next characters; a candidate's score is the sum of its
characters' probabilities (each proposal's lowered by ``k * 1e-6`` for its rank ``k``, as
MMOCR's); the best ``beam_width`` go on. The output holds, per step, the best candidate's
character probability at its index (zeros elsewhere), which the convertor reads as greedy
outputs.

Differs from MMOCR: a test batch of several images is decoded image by image (MMOCR asserts one
image per batch), and candidates of equal score keep their order of proposal (MMOCR's priority
queue then compares two nodes and raises ``TypeError``).
"""
from __future__ import annotations

import heapq
import itertools
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ocr_ds.errors import bad_value
from ocr_ds.models.textrecog.base import valid_ratios
from ocr_ds.models.textrecog.sar.decoders import ParallelSARDecoder


class ParallelSARDecoderWithBS(ParallelSARDecoder):
    """:class:`ParallelSARDecoder` (same arguments and weights) decoding by beam search.

    Args:
        beam_width: Candidates kept at each step. Defaults to 5.
    """

    def __init__(self, beam_width: int = 5, **kwargs: Any):
        if not isinstance(beam_width, int) or isinstance(beam_width, bool) or beam_width < 1:
            raise bad_value("model.decoder.beam_width", beam_width, "a positive integer")
        super().__init__(**kwargs)
        self.beam_width = beam_width

    def forward_test(self, feat: torch.Tensor, out_enc: torch.Tensor,
                     img_metas: Sequence[dict] | None) -> torch.Tensor:
        metas = list(img_metas) if img_metas is not None else [{}] * feat.size(0)
        return torch.cat([self._beam_search(feat[i:i + 1], out_enc[i:i + 1], metas[i:i + 1])
                          for i in range(feat.size(0))])

    def _beam_search(self, feat: torch.Tensor, out_enc: torch.Tensor,
                     img_metas: Sequence[dict]) -> torch.Tensor:
        ratios = valid_ratios(img_metas, self.mask)
        seq_len = self.max_seq_len
        start = torch.full((1,), self.start_idx, device=feat.device, dtype=torch.long)
        start = self.embedding(start).unsqueeze(1).expand(-1, seq_len, -1)
        out_enc = out_enc.unsqueeze(1)
        decoder_input = torch.cat((out_enc, start), dim=1)
        order = itertools.count()          # ties keep their order of proposal
        # (-(sum of scores), order, character indices, their scores)
        queue = [(-0.0, next(order), [self.start_idx], [0.0])]
        for i in range(1, seq_len + 1):
            proposals = []
            for _ in range(self.beam_width if i > 1 else 1):
                _, _, indexes, scores = heapq.heappop(queue)
                input_seq = torch.clone(decoder_input)
                for t, index in enumerate(indexes):
                    token = torch.full((1,), index, device=feat.device, dtype=torch.long)
                    input_seq[:, t + 1, :] = self.embedding(token)
                output = self._2d_attention(input_seq, feat, out_enc, ratios)
                probs = F.softmax(output[:, i, :], -1)
                values, idx = probs.topk(self.beam_width, dim=1)
                total = sum(scores)
                for k in range(self.beam_width):
                    value, index = values[0, k].item(), idx[0, k].item()
                    proposals.append((-total - value - k * 1e-6, next(order),
                                      indexes + [index], scores + [value]))
            queue = proposals
            heapq.heapify(queue)
        _, _, indexes, scores = heapq.heappop(queue)
        outputs = torch.zeros(1, seq_len, self.num_classes - 1, device=feat.device)
        for i in range(seq_len):
            outputs[0, i, indexes[i + 1]] = scores[i + 1]
        return outputs
