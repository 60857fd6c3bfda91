"""Predict a whole test set on every rank, and bring the predictions to rank 0 in dataset order.

Each rank runs the model over its share of the padded sampler (rank ``r`` takes positions
``r, r + N, r + 2N, ...``), so every rank runs the same number of batches. Positions past the
end of the data set are padding (repeats of the first images): they are predicted but never
collected, so N ranks give exactly the predictions, in the same order, and so the metrics, of
one process.

Collecting (mmdet's ``multi_gpu_test``): through the process group (``gpu_collect``: a gather
over NCCL or gloo) or, by default, through files: every rank writes its part as JSON into a
directory all ranks see (``tmpdir``, else a fresh one under ``./.dist_test``), rank 0 reads
them and removes what it made. Predictions are plain JSON values from the start (numpy arrays
become lists), so the three ways give identical results.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any, Callable, Mapping

import numpy as np
import torch

from ocr_ds.atomic import atomic_write
from ocr_ds.engine import dist
from ocr_ds.engine.runner import to_device
from ocr_ds.engine.show import RAW_KEY
from ocr_ds.errors import UserError


def to_plain(value: Any) -> Any:
    """``value`` with numpy/torch numbers and arrays turned into Python ones (JSON-ready)."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return to_plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def plain_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """``metrics`` with every value a Python float; nested dicts (NER's per-category
    ``{'precision', 'recall', 'f1-score'}``) keep their shape."""
    return {str(k): plain_metrics(v) if isinstance(v, Mapping) else float(v)
            for k, v in metrics.items()}


def predict(model: torch.nn.Module, loader: Any, *, device: torch.device, world_size: int = 1,
            rank: int = 0, length: int | None = None,
            on_sample: Callable[[int, Any, Any], None] | None = None,
            progress: Any = None) -> list[tuple[int, Any]]:
    """``[(dataset index, prediction), ...]`` of this rank's share, padding left out.

    ``on_sample(index, prediction, raw)`` is called for every real sample (``raw``: what
    :func:`ocr_ds.engine.show.tap_pipelines` attached, else None); ``progress.update(n)`` after
    each batch with the images all ranks did."""
    length = len(loader.dataset) if length is None else length
    indices = list(iter(loader.sampler))
    out: list[tuple[int, Any]] = []
    model.eval()
    position = 0
    with torch.no_grad():
        for batch in loader:
            raws = batch.pop(RAW_KEY, None)
            preds = model(to_device(batch, device, None), return_loss=False)
            for j, pred in enumerate(preds):
                if rank + world_size * (position + j) >= length:
                    continue  # padding: the same image is predicted by the rank that owns it
                index = indices[position + j]
                pred = to_plain(pred)
                out.append((index, pred))
                if on_sample is not None:
                    on_sample(index, pred, raws[j] if raws is not None else None)
            position += len(preds)
            if progress is not None:
                progress.update(len(preds) * world_size)
    return out


def _ordered(parts: list[list], length: int) -> list[Any]:
    by_index = {int(i): pred for part in parts for i, pred in part}
    missing = [i for i in range(length) if i not in by_index]
    if missing:
        raise RuntimeError(f"predictions missing for {len(missing)} of {length} images "
                           f"(e.g. index {missing[0]})")
    return [by_index[i] for i in range(length)]


def collect(part: list[tuple[int, Any]], length: int, *, gpu_collect: bool = False,
            tmpdir: str | None = None) -> list[Any] | None:
    """Every rank's ``part`` in dataset order on rank 0 (None on the others). Collective."""
    if not dist.is_dist() or dist.get_world_size() == 1:
        return _ordered([part], length)
    if gpu_collect:
        parts = dist.gather_object(part)
        return _ordered(parts, length) if dist.is_main() else None
    return _collect_files(part, length, tmpdir)


def _collect_files(part: list[tuple[int, Any]], length: int, tmpdir: str | None) -> list | None:
    made: list[str] = []
    path = None
    if dist.is_main():
        if tmpdir:
            if not os.path.isdir(tmpdir):
                os.makedirs(tmpdir)
                made.append(tmpdir)
            path = tmpdir
        else:
            if not os.path.isdir(".dist_test"):
                os.makedirs(".dist_test", exist_ok=True)
                made.append(".dist_test")
            path = tempfile.mkdtemp(dir=".dist_test")
            made.insert(0, path)
    path = dist.broadcast_object(path)
    rank = dist.get_rank()
    mine = os.path.join(path, f"part_{rank}.json")
    atomic_write(mine, json.dumps(part))
    dist.barrier()
    if not dist.is_main():
        dist.barrier()  # rank 0 has read every part
        return None
    parts = []
    names = [os.path.join(path, f"part_{r}.json") for r in range(dist.get_world_size())]
    for name in names:
        try:
            with open(name) as f:
                parts.append(json.load(f))
        except (OSError, ValueError) as exc:
            raise UserError(f"--tmpdir {path}: cannot read {name} ({exc}); expected a "
                            "directory every rank sees (a shared file system)") from None
    dist.barrier()
    for name in names:
        os.remove(name)
    for directory in made:  # only what this run created
        shutil.rmtree(directory, ignore_errors=True) if directory != ".dist_test" else \
            _rmdir_if_empty(directory)
    return _ordered(parts, length)


def _rmdir_if_empty(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass  # another job's parts are still in it
