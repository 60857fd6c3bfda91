"""The DeepSpeed training engine: distributed set-up, build order, the loop and its hooks.

Only :mod:`ocr_ds.engine.builder` and :mod:`ocr_ds.engine.checkpoint` import deepspeed; the rest
works on plain torch objects and the small ``Runner`` state.
"""
