"""The fixed training batch both sides of ``peer_step.py`` train on (numpy only: imported in
ocr_ds's venv and in MMOCR 0.6.3's).

DBNet: normalised random images and the four DBNetTargets maps at the input resolution
(``gt_shrink`` uint8 text kernels, ``gt_shrink_mask`` uint8 with ignored boxes, ``gt_thr``
float32 in [0.3, 0.7] around the text, ``gt_thr_mask`` uint8 band), drawn as random word boxes.
CRNN: random 1x32x100 crops and random lower-case words of 3-10 characters.

:func:`serve` is both workers' loop: timed steps on request, one JSON line per round.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from typing import Callable

import numpy as np

CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def dbnet_batch(batch: int, size: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    img = rng.standard_normal((batch, 3, size, size), dtype=np.float32)
    shrink = np.zeros((batch, size, size), np.uint8)
    shrink_mask = np.ones((batch, size, size), np.uint8)
    thr = np.full((batch, size, size), 0.3, np.float32)
    thr_mask = np.zeros((batch, size, size), np.uint8)
    for b in range(batch):
        for k in range(12):   # word boxes: about 10% of the pixels are text
            h = int(rng.integers(size // 40, size // 12))
            w = int(rng.integers(2 * h, 8 * h))
            y, x = int(rng.integers(0, size - h)), int(rng.integers(0, max(1, size - w)))
            pad = max(1, h // 4)
            y0, y1, x0, x1 = max(0, y - pad), min(size, y + h + pad), max(0, x - pad), min(size, x + w + pad)
            thr_mask[b, y0:y1, x0:x1] = 1
            thr[b, y0:y1, x0:x1] = rng.uniform(0.3, 0.7, (y1 - y0, x1 - x0)).astype(np.float32)
            if k == 11:        # one '###' region: ignored
                shrink_mask[b, y:y + h, x:x + w] = 0
            else:
                shrink[b, y + pad // 2:y + h - pad // 2, x + pad // 2:x + w - pad // 2] = 1
    return {"img": img, "gt_shrink": shrink, "gt_shrink_mask": shrink_mask, "gt_thr": thr,
            "gt_thr_mask": thr_mask}


def crnn_batch(batch: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    img = rng.standard_normal((batch, 1, 32, 100), dtype=np.float32)
    texts = ["".join(rng.choice(list(CHARS), int(rng.integers(3, 11)))) for _ in range(batch)]
    return img, texts


def scale_drops(get_scale: Callable[[], float]) -> Callable[[], int]:
    """Count the steps a dynamic loss scaler skipped (torch's ``GradScaler``: a non-finite
    gradient halves the scale and skips the optimizer step; growth only ever multiplies it):
    the returned function, called once after every step, gives the number of drops so far."""
    state = {"scale": float(get_scale()), "drops": 0}

    def count() -> int:
        scale = float(get_scale())
        state["drops"] += scale < state["scale"]
        state["scale"] = scale
        return state["drops"]
    return count


def serve(step: Callable[[], object], first_loss: float, t0: float,
          skipped: Callable[[], int] | None = None) -> None:
    """Announce ``READY`` (the first loss, set-up seconds since ``t0``), then for each stdin
    line ``steps N`` run ``step`` N times and print their wall and CPU times, page faults and
    how many of them the loss scaler skipped (``skipped``: a running count, read after each
    step outside its timed window; a skipped step does no optimizer update, so it is cheaper);
    ``quit`` or end of input stops."""
    print("READY " + json.dumps({"first_loss": first_loss, "setup_s": time.perf_counter() - t0}),
          flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        times, cpu, faults = [], [], []
        before = after = skipped() if skipped else 0
        for _ in range(int(cmd[1])):
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t, c = time.perf_counter(), time.process_time()
            step()
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
            after = skipped() if skipped else 0
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print("TIMES " + json.dumps({"times": times, "cpu": cpu, "faults": faults,
                                     "rss_mb": rss_mb, "skipped": after - before}), flush=True)
