"""``ocr_ds/train.py`` with DRRG's test-time maps forged per rank, recording each GCN run
(test_drrg_zero3).

Run as the training script (``deepspeed --num_gpus 2 zero3_probe.py --config ...``). At test
time rank 0's head maps are replaced by a band of horizontal text (text and centre scores high,
4-pixel heights): real components, a real local graph, the GCN on its nodes; rank 1's by no text
at all: fewer than two components, the GCN on no graph. (An untrained DRRG proposes no
components: its heights are far under a pixel.) Training is left as it is. Each rank writes
``<work dir>/gcn_rank<RANK>.json``: the node count of every GCN call at test time.
"""
from __future__ import annotations

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
sys.path.insert(0, ROOT)
nodes: list[int] = []


def install() -> None:
    import torch

    from ocr_ds.models.textdet.drrg.gcn import GCN
    from ocr_ds.models.textdet.drrg.proposals import ProposalLocalGraphs

    rank = int(os.environ.get("RANK", "0"))
    propose = ProposalLocalGraphs.__call__

    def forged(self, preds, feat_maps):
        maps = torch.full_like(preds[0] if preds.ndim == 4 else preds, -10.0)
        if rank == 0:
            h, w = maps.shape[1:]
            band = (slice(h // 4, h // 4 + 8), slice(w // 8, w - w // 8))
            maps[0][band] = maps[1][band] = 10.0      # text, centre region
            maps[2][band] = maps[3][band] = 4.0       # top and bottom heights
            maps[4][band], maps[5][band] = 0.0, 1.0   # sin, cos: horizontal
        return propose(self, maps, feat_maps)

    ProposalLocalGraphs.__call__ = forged
    forward = GCN.forward

    def counted(self, x, A, knn_inds):
        if not self.training:
            nodes.append(int(x.shape[0]))
        return forward(self, x, A, knn_inds)

    GCN.forward = counted


def dump(work_dir: str) -> None:
    if os.path.isdir(work_dir):
        with open(os.path.join(work_dir, f"gcn_rank{os.environ.get('RANK', '0')}.json"),
                  "w") as f:
            json.dump(nodes, f)


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(ROOT, "tests", "engine"))
    import helpers

    helpers.train_with_probe(install, dump)
