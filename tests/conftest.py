"""Fixtures shared by several test folders."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def demo_checkpoints(tmp_path_factory):
    """The CRNN (ZeRO-3, 2 ranks) and DBNet demo checkpoints on tiny data, trained once per
    session, with an exported and an MMOCR-format .pth (see tests/demo_checkpoints.py)."""
    from demo_checkpoints import make_demo_checkpoints

    return make_demo_checkpoints(tmp_path_factory.mktemp("demo"))
