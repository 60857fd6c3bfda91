"""Turn any of our checkpoints into a plain PyTorch weights file.

    python -m ocr_ds.tools.export work_dirs/crnn/epoch_5 crnn.pth
    python -m ocr_ds.tools.export work_dirs/crnn crnn.pth          # the checkpoint 'latest' names

Works for every ZeRO stage (ZeRO partitions are merged into fp32 weights). The output holds
``{'state_dict': ..., 'meta': {'config': ..., 'epoch': ..., 'iter': ...}}`` and loads with
``torch.load(path, weights_only=True)`` on a machine without DeepSpeed::

    sd = torch.load('crnn.pth', weights_only=True)['state_dict']
    model.load_state_dict(sd)
"""
from __future__ import annotations

import os
import sys
from typing import Sequence

from ocr_ds.checkpoint_io import load_checkpoint_any
from ocr_ds.engine.checkpoint import atomic_torch_save
from ocr_ds.errors import CliParser, UserError, add_unsafe_pickle_flag, run_cli


def weights_file(state: dict, meta: dict) -> dict:
    """What an exported (or published) file holds: contiguous weights and ``meta``."""
    return {"state_dict": {k: v.contiguous() for k, v in state.items()}, "meta": meta}


def export(src: str, dst: str, allow_unsafe_pickle: bool = False) -> int:
    """Write ``dst`` from checkpoint ``src``; returns the number of tensors."""
    state, meta = load_checkpoint_any(src, allow_unsafe_pickle)
    keep = {k: meta[k] for k in ("config", "epoch", "iter", "tag", "seed") if k in meta}
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    atomic_torch_save(weights_file(state, keep), dst)
    return len(state)


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.export", description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", help="checkpoint directory (or work dir with 'latest', or .pth)")
    p.add_argument("out", help="output .pth file")
    add_unsafe_pickle_flag(p)
    args = p.parse_args(argv)
    if not args.out.endswith((".pth", ".pt")):
        raise UserError(f"out: expected a .pth file name (got {args.out!r})")
    n = export(args.checkpoint, args.out, args.allow_unsafe_pickle)
    print(f"wrote {args.out}: {n} tensors", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)
