"""Prepare a checkpoint for publishing (MMOCR 0.6.3's ``tools/publish_model.py``)::

    python -m ocr_ds.tools.publish_model work_dirs/dbnet/latest dbnet_r18.pth
    # -> dbnet_r18-<first 8 hex digits of the file's sha256>.pth

Any of our checkpoints (a training checkpoint directory at any ZeRO stage, a work dir, or a
``.pth``) becomes weights only, as :mod:`ocr_ds.tools.export` writes them, without the
optimizer state, and ``meta`` reduced to MMOCR's ``{'CLASSES': 0}`` (a published file carries
no config or paths); the file is named after the sha256 of its bytes, as MMOCR's model zoo names
its files, and loads into MMOCR 0.6.3's model as it is.
"""
from __future__ import annotations

import hashlib
import io
import os
import sys
from typing import Sequence

import torch

from ocr_ds.atomic import atomic_write
from ocr_ds.checkpoint_io import load_checkpoint_any
from ocr_ds.errors import CliParser, UserError, add_unsafe_pickle_flag, run_cli
from ocr_ds.tools.export import weights_file


def publish(src: str, out: str, allow_unsafe_pickle: bool = False) -> str:
    """Write the published file for ``out`` (``NAME.pth`` -> ``NAME-<sha256[:8]>.pth``) from
    checkpoint ``src``; returns its path."""
    state, _ = load_checkpoint_any(src, allow_unsafe_pickle)
    buf = io.BytesIO()
    torch.save(weights_file(state, {"CLASSES": 0}), buf)
    data = buf.getvalue()
    final = f"{out[:-len('.pth')]}-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    os.makedirs(os.path.dirname(os.path.abspath(final)), exist_ok=True)
    atomic_write(final, data)
    return final


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.publish_model",
                  description="Process a checkpoint to be published")
    p.add_argument("in_file", help="checkpoint directory (or work dir with 'latest', or .pth)")
    p.add_argument("out_file", help="output NAME.pth (written as NAME-<sha256[:8]>.pth)")
    add_unsafe_pickle_flag(p)
    args = p.parse_args(argv)
    if not args.out_file.endswith(".pth"):
        raise UserError(f"out_file: expected a .pth file name (got {args.out_file!r})")
    final = publish(args.in_file, args.out_file, args.allow_unsafe_pickle)
    print(final)
    print(f"wrote {final}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)
