"""Resume a ZeRO checkpoint on another number of ranks, through DeepSpeed's universal checkpoint.

At ZeRO stages 1-3 every rank saves its own slice of the optimizer state (at stage 3 of the
weights too), and DeepSpeed loads such files only at the world size that wrote them. Its
universal format stores every parameter's fp32 weights and optimizer states whole
(``<dir>/zero/<param>/<state>.pt``), and an engine built with ``checkpoint.load_universal=true``
cuts them for its own world size. Here this happens by itself, when a resume finds another world
size (:func:`needs_conversion`; a ZeRO-0 checkpoint keeps everything whole and loads as it is):

* :func:`convert` writes ``<checkpoint>/universal`` once, on rank 0, while the others wait; it is
  built under a temporary name and renamed when complete, so a crash leaves nothing half-written
  and a later resume reuses it. DeepSpeed 0.19's own converter (``ds_to_universal``) and its
  ZeRO-3 universal loader know only Adam's states (``exp_avg``, ``exp_avg_sq``) and stop with a
  ``KeyError`` on MMOCR's SGD and Adadelta, so the writer is ours: it gathers each state the
  optimizer keeps (whatever its name) with DeepSpeed's own ``zero_to_fp32`` merge functions, which
  know the partition layouts of stages 1-3, and writes DeepSpeed's universal layout;
* :func:`load_stage3_universal` does for ZeRO-3 what DeepSpeed's loader does, for any states;
  ZeRO-1/2's universal loader already takes whatever states it finds;
* :func:`restore_buffers`: the universal load restores parameters and optimizer states only;
  module buffers (BatchNorm running statistics) are copied from the checkpoint's model states.

ocr_ds trains data-parallel only (no tensor, pipeline or expert parallelism), which is all this
handles.
"""
from __future__ import annotations

import contextlib
import glob
import io
import os
import shutil
import types
from typing import Any, Callable

import torch

from ocr_ds.engine import dist
from ocr_ds.errors import TrainingFault

UNIVERSAL = "universal"
_ZERO_FILES = "*zero_pp_rank_*_optim_states.pt"


def needs_conversion(ckpt_dir: str, meta: dict[str, Any], world: int) -> bool:
    """Whether resuming ``ckpt_dir`` at ``world`` ranks needs the universal format."""
    return meta.get("world_size", world) != world and bool(glob.glob(os.path.join(ckpt_dir, _ZERO_FILES)))


def convert(ckpt_dir: str, logger: Any) -> str:
    """``<ckpt_dir>/universal``, written on rank 0 if it is not there yet. Collective."""
    out = os.path.join(ckpt_dir, UNIVERSAL)
    error = None
    if dist.is_main() and not os.path.isdir(out):
        logger.info("converting %s to DeepSpeed's universal checkpoint (the world size changed)",
                    ckpt_dir)
        tmp = f"{out}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                write_universal(ckpt_dir, tmp)  # (zero_to_fp32 prints and draws progress bars)
            try:
                os.rename(tmp, out)
            except OSError:
                if not os.path.isdir(out):  # else another job converted it meanwhile: use theirs
                    raise
        except Exception as exc:  # noqa: BLE001 - every rank must hear of it, not wait forever
            error = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    error = dist.broadcast_object(error)
    if error:
        raise TrainingFault(f"could not convert {ckpt_dir} to DeepSpeed's universal checkpoint "
                            f"for a new world size ({error})")
    return out


def _merger(ckpt_dir: str) -> tuple[Callable[[list], dict[str, torch.Tensor]], list[dict], Any]:
    """(merge, each rank's optimizer state dict, model states): ``merge`` turns every rank's flat
    partitions of one state into ``{param name: full tensor}``."""
    from deepspeed.checkpoint.constants import OPTIMIZER_STATE_DICT, PARAM_ALIGNMENT_PADDINGS
    from deepspeed.utils import zero_to_fp32 as z

    models = z.parse_model_states(z.get_model_state_files(ckpt_dir))
    files = z.get_optim_files(ckpt_dir)
    sds = [torch.load(f, map_location="cpu", weights_only=False)[OPTIMIZER_STATE_DICT] for f in files]
    world = len(files)
    names = [n for shapes in models[0].param_shapes for n in shapes]
    if sds[0]["zero_stage"] <= 2:
        paddings = sds[0].get(PARAM_ALIGNMENT_PADDINGS)

        def merge(groups: list) -> dict[str, torch.Tensor]:
            full = z._get_fp32_state_dict_from_zero2_checkpoint(world, groups, models, False, paddings)
            return {n: full[n] for n in names}
    else:
        def merge(groups: list) -> dict[str, torch.Tensor]:
            full = z._get_fp32_state_dict_from_zero3_checkpoint(world, groups, models, False)
            return z.to_torch_tensor({n: full[n] for n in names})
    return merge, sds, models


def _states(sd: dict) -> tuple[str, dict, list]:
    """(key of the flat fp32 partitions, the torch optimizer's per-group state, its param groups)
    of one rank's ZeRO optimizer state dict (the stages name them differently)."""
    if sd["zero_stage"] <= 2:
        base = sd["base_optimizer_state"]
        return "single_partition_of_fp32_groups", base["state"], base["param_groups"]
    return "fp32_flat_groups", sd["optimizer_state_dict"]["state"], sd["optimizer_state_dict"]["param_groups"]


def write_universal(ckpt_dir: str, out: str) -> None:
    """Write DeepSpeed's universal layout of the ZeRO checkpoint ``ckpt_dir`` into ``out``."""
    merge, sds, _ = _merger(ckpt_dir)
    flat_key, state0, param_groups = _states(sds[0])
    groups = len(sds[0][flat_key])
    full = {"fp32": merge([sd[flat_key] for sd in sds])}
    # every per-parameter state the optimizer keeps: flat tensors as long as the fp32 partition
    for key, value in (state0.get(0) or {}).items():
        if torch.is_tensor(value) and value.numel() == sds[0][flat_key][0].numel() and key != "step":
            full[key] = merge([[_states(sd)[1][g][key] for g in range(groups)] for sd in sds])
    step = (state0.get(0) or {}).get("step")
    zero = os.path.join(out, "zero")
    for name in full["fp32"]:
        os.makedirs(os.path.join(zero, name))
        for key, tensors in full.items():
            torch.save({"param": tensors[name].contiguous().clone(), "cat_dim": 0},
                       os.path.join(zero, name, f"{key}.pt"))
        if step is not None:
            torch.save(step, os.path.join(zero, name, "step.pt"))
    # what is not per parameter (clipping, version, hyper-parameters: lr, ...), as plain values so
    # that the file loads weights-only like every other file we write; a dynamic fp16 loss scale
    # (a DeepSpeed object) starts again from its initial value
    common = {k: sds[0][k] for k in ("dynamic_loss_scale", "overflow", "clip_grad", "ds_version")
              if k in sds[0]}
    common["zero_stage"] = int(sds[0]["zero_stage"])
    count = sds[0].get("partition_count")
    common["partition_count"] = [int(c) for c in count] if isinstance(count, list) else int(count or 0)
    common["param_groups"] = param_groups
    common["optimizer_state_dict"] = {"param_groups": param_groups,
                                      "state": {g: {"step": step} for g in range(groups)}}
    torch.save(common, os.path.join(zero, "optimizer_state.pt"))
    for f in glob.glob(os.path.join(ckpt_dir, "*model_states.pt")):
        shutil.copy2(f, out)


def load_stage3_universal(optimizer: Any, checkpoint_dir: str) -> None:
    """DeepSpeed 0.19's ``load_hp_checkpoint_state_from_checkpoint_dir_stage3``, for whatever
    states the checkpoint holds (DeepSpeed's reads exactly fp32, exp_avg and exp_avg_sq)."""
    zero = os.path.join(checkpoint_dir, "zero")
    optim_sd = torch.load(os.path.join(zero, "optimizer_state.pt"), weights_only=False)
    optimizer._load_global_state_stage3(optim_sd)
    if optimizer.swap_optimizer:
        raise TrainingFault("resuming at another world size with an NVMe-offloaded optimizer is "
                            "not supported")
    first = optimizer.param_names[optimizer.fp16_groups[0][0]]
    keys = sorted(f[:-3] for f in os.listdir(os.path.join(zero, first)) if f.endswith(".pt"))
    step = optim_sd["optimizer_state_dict"]["state"][0].get("step")
    for key in ["fp32"] + [k for k in keys if k not in ("fp32", "step")]:
        for sub_group_id, fp16_group in enumerate(optimizer.fp16_groups):
            fp32_param = optimizer.fp32_partitioned_groups_flat[sub_group_id]
            flat = torch.zeros_like(fp32_param)
            offset = 0
            for param in fp16_group:
                part = optimizer.load_hp_checkpoint_state(
                    os.path.join(zero, optimizer.param_names[param]), key, param=param)
                flat.narrow(0, offset, part.numel()).copy_(part)
                offset += part.numel()
            if key == "fp32":
                fp32_param.data.copy_(flat)
                if step is not None:
                    optimizer.optimizer.state[fp32_param]["step"] = step
            else:
                optimizer.optimizer.state[fp32_param][key] = flat
    for param_group in optimizer.optimizer.param_groups:
        for key, value in optim_sd["param_groups"][0].items():
            param_group[key] = [] if key == "params" else value
    for sub_group_id, fp32_param in enumerate(optimizer.fp32_partitioned_groups_flat):
        if fp32_param.numel() > 0:
            optimizer.fp16_partitioned_groups_flat[sub_group_id].data.copy_(fp32_param.data)
        updated = optimizer.unflatten(optimizer.fp16_partitioned_groups_flat[sub_group_id],
                                      optimizer.fp16_partitioned_groups[sub_group_id])
        for partitioned_param, q in zip(optimizer.fp16_partitioned_groups[sub_group_id], updated):
            partitioned_param.data = q.data


def use_own_stage3_loader(engine: Any) -> None:
    """Make a ZeRO-3 engine's optimizer read universal checkpoints with :func:`load_stage3_universal`."""
    opt = engine.optimizer
    if hasattr(opt, "load_hp_checkpoint_state_from_checkpoint_dir_stage3"):
        opt.load_hp_checkpoint_state_from_checkpoint_dir_stage3 = types.MethodType(
            load_stage3_universal, opt)


def restore_buffers(engine: Any, ckpt_dir: str) -> int:
    """Copy the module buffers saved in ``ckpt_dir`` into ``engine.module``; returns how many.

    Only our own checkpoints get here (DeepSpeed's model-states files need its unpickler, as
    when DeepSpeed loads them itself)."""
    from deepspeed.utils import zero_to_fp32 as z

    with contextlib.redirect_stdout(io.StringIO()):
        saved = z.parse_model_states(z.get_model_state_files(ckpt_dir))[0].buffers
    n = 0
    with torch.no_grad():
        for name, buf in engine.module.named_buffers():
            if name in saved and saved[name].shape == buf.shape:
                buf.copy_(saved[name].to(buf.dtype))
                n += 1
    return n
