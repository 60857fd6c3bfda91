"""Our side of the parity tests: comparisons with MMOCR 0.6.3's results.

Import in a test with ``from parity import ...`` (tests/conftest.py puts this directory on
``sys.path``). The tolerances are the issues' promise: 1e-5 relative, outputs and losses
alike; equality where MMOCR's numbers are exact (keys, shapes, seeded initialisation).
"""
from __future__ import annotations

import math
import os
from typing import Any, Mapping

import torch

RTOL = 1e-5
ATOL = 1e-6


def ref_file(test_file: str, name: str) -> str:
    """The path of a ref-side module ``name`` beside the test file ``test_file``."""
    return os.path.join(os.path.dirname(os.path.abspath(test_file)), name)


def assert_same_keys(ours: Mapping[str, torch.Tensor], theirs: Mapping[str, torch.Tensor]) -> None:
    """Same state-dict keys, in any order, and the same shape for each."""
    missing = sorted(set(theirs) - set(ours))
    unexpected = sorted(set(ours) - set(theirs))
    assert not missing and not unexpected, (
        f"{len(missing)} of MMOCR's keys missing here, e.g. {missing[:8]}; "
        f"{len(unexpected)} keys MMOCR does not have, e.g. {unexpected[:8]}")
    shapes = [(k, tuple(ours[k].shape), tuple(theirs[k].shape)) for k in theirs
              if tuple(ours[k].shape) != tuple(theirs[k].shape)]
    assert not shapes, f"shapes differ (key, ours, MMOCR's): {shapes[:8]}"


def assert_close(ours: Any, theirs: Any, rtol: float = RTOL, atol: float = ATOL,
                 what: str = "value") -> None:
    """Recursive closeness of tensors / numbers / lists / dicts (strings and None: equal)."""
    if isinstance(theirs, Mapping):
        assert isinstance(ours, Mapping), f"{what}: expected a dict, got {type(ours).__name__}"
        assert sorted(ours) == sorted(theirs), f"{what}: keys {sorted(ours)} != {sorted(theirs)}"
        for k in theirs:
            assert_close(ours[k], theirs[k], rtol, atol, f"{what}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), (
            f"{what}: length {len(ours) if isinstance(ours, (list, tuple)) else ours!r} "
            f"!= {len(theirs)}")
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_close(a, b, rtol, atol, f"{what}[{i}]")
    elif isinstance(theirs, torch.Tensor) or isinstance(ours, torch.Tensor):
        a = torch.as_tensor(ours).detach().double()
        b = torch.as_tensor(theirs).detach().double()
        assert a.shape == b.shape, f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
        if a.numel():
            err = ((a - b).abs() - rtol * b.abs()).max().item()
            assert torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True), (
                f"{what}: max |ours - MMOCR| beyond tolerance by {err:.3g} "
                f"(max |MMOCR| {b.abs().max().item():.3g})")
    elif isinstance(theirs, float) or isinstance(ours, float):
        assert ours is not None and (math.isclose(ours, theirs, rel_tol=rtol, abs_tol=atol)
                                     or (math.isnan(ours) and math.isnan(theirs))), (
            f"{what}: {ours!r} != MMOCR's {theirs!r}")
    else:
        assert ours == theirs, f"{what}: {ours!r} != MMOCR's {theirs!r}"


def split_grads(model: torch.nn.Module) -> dict[str, dict[str, Any]]:
    """As ``mmocr_common.split_grads``: the non-backbone gradients and backbone gradient norms."""
    grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    return dict(grads={k: g for k, g in grads.items() if not k.startswith("backbone.")},
                backbone_grad_norms={k: float(g.norm()) for k, g in grads.items()
                                     if k.startswith("backbone.")})


def init_stats(model: torch.nn.Module) -> dict[str, tuple[float, float]]:
    """Per-tensor mean and std of every floating tensor of the state dict (as the ref side)."""
    out = {}
    for k, v in model.state_dict().items():
        if v.is_floating_point():
            v = v.float()
            out[k] = (float(v.mean()), float(v.std()) if v.numel() > 1 else 0.0)
    return out


def assert_same_init_stats(ours: Mapping[str, tuple], theirs: Mapping[str, tuple],
                           sizes: Mapping[str, int], sigmas: float = 6.0) -> None:
    """Each tensor's mean and std agree with MMOCR's within sampling error.

    Two independent draws of ``n`` values differ in their mean by about ``std*sqrt(2/n)`` and in
    their std by about ``std/sqrt(n)``; constants (BN weights, zero biases) must agree exactly.
    """
    bad = []
    for k, (m_ref, s_ref) in theirs.items():
        m, s = ours[k]
        n = max(sizes[k], 1)
        tol_m = sigmas * max(s_ref, s) * math.sqrt(2.0 / n) + 1e-7
        tol_s = sigmas * max(s_ref, s) / math.sqrt(n) + 1e-7
        if abs(m - m_ref) > tol_m or abs(s - s_ref) > tol_s:
            bad.append(f"{k}: mean {m:.4g} vs {m_ref:.4g}, std {s:.4g} vs {s_ref:.4g}")
    assert not bad, f"{len(bad)} tensors initialised unlike MMOCR's: " + "; ".join(bad[:10])


def assert_close_by_norm(ours: Mapping[str, torch.Tensor], theirs: Mapping[str, torch.Tensor],
                         rtol: float = RTOL, atol: float = ATOL, what: str = "value") -> None:
    """Per tensor, ``|ours - theirs| <= rtol * |theirs| + atol * sqrt(numel)`` in the L2 norm.

    For results that went through arithmetic MMOCR does in another order (mmcv's compiled
    deformable convolution: im2col + GEMM; ours: a gather + batched matmul; another thread
    count) and then through a deep network in train mode, where BN's backward amplifies the
    rounding of single elements: the tensors agree to float precision as a whole, not element
    by element. ``atol`` (per element, as RMS) covers gradients that are zero but for rounding
    (a bias followed by BN).
    """
    assert sorted(ours) == sorted(theirs), f"{what}: keys {sorted(ours)} != {sorted(theirs)}"
    bad = []
    for k in theirs:
        a, b = ours[k].detach().double(), theirs[k].detach().double()
        assert a.shape == b.shape, f"{what}[{k!r}]: shape {tuple(a.shape)} != {tuple(b.shape)}"
        err = (a - b).norm().item()
        if not err <= rtol * b.norm().item() + atol * math.sqrt(b.numel()):
            bad.append(f"{k}: {err / max(b.norm().item(), 1e-30):.3g}")
    assert not bad, f"{what}: relative L2 error above {rtol}: " + ", ".join(bad[:8])


def check_detector(model: torch.nn.Module, theirs: Mapping[str, Any], checkpoint: str,
                   batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """A detector built (and ``init_weights()``-ed) from the seed MMOCR's was, against what
    ``mmocr_common.detector_run`` returned: keys and shapes, the initialisation of everything
    but the backbone (per-tensor statistics), MMOCR's checkpoint loading with nothing
    missing or unexpected, then train losses and gradients on ``batch``; returns the losses."""
    from ocr_ds.checkpoint_io import load_checkpoint_any

    shapes = {k: torch.empty(v) for k, v in theirs["shapes"].items()}
    assert_same_keys(model.state_dict(), shapes)
    mine = {k: v for k, v in init_stats(model).items() if not k.startswith("backbone.")}
    sizes = {k: v.numel() for k, v in shapes.items()}
    assert_same_init_stats(mine, {k: theirs["init"][k] for k in mine}, sizes)
    state, _ = load_checkpoint_any(checkpoint)
    result = model.load_state_dict(state, strict=False)
    assert not result.missing_keys and not result.unexpected_keys, result
    model.train()
    losses = model(dict(batch))
    assert_close(losses, theirs["losses"], what="train losses")
    sum(losses.values()).backward()
    assert_close(split_grads(model), {k: theirs[k] for k in ("grads", "backbone_grad_norms")},
                 what="gradients")
    return losses
