"""Hooks: small objects the loop calls at fixed points, in the order of one list.

The list is built (and its order explained) in :func:`ocr_ds.engine.hooks.build.build_hooks`.
"""
from ocr_ds.engine.hooks.base import Hook

__all__ = ["Hook"]
