"""Build in the order DeepSpeed needs: model -> weights (--load-from) -> DeepSpeed engine.

The only place (with :mod:`ocr_ds.engine.checkpoint` and :mod:`ocr_ds.checkpoint_io`) that
imports deepspeed.
"""
from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any, Mapping

import torch

from ocr_ds import registry
from ocr_ds.checkpoint_io import load_checkpoint_any, match_state_dict
from ocr_ds.engine import ops
from ocr_ds.errors import UserError
from ocr_ds.translate.zero_buffers import ModelFacts


def init_distributed(backend_hint: str | None = None) -> None:
    """Start the process group from RANK/WORLD_SIZE/... (see :mod:`ocr_ds.engine.launch`)."""
    import deepspeed
    from deepspeed.accelerator import get_accelerator

    if torch.distributed.is_initialized():
        return
    # DeepSpeed would JIT-build its comm op here: from this venv's build, with stale locks cleared
    ops.prepare()
    backend = get_accelerator().communication_backend_name()
    timeout = timedelta(seconds=int(os.environ.get("OCR_DS_DIST_TIMEOUT", "1800")))
    deepspeed.init_distributed(dist_backend=backend, auto_mpi_discovery=False, timeout=timeout)
    if get_accelerator().device_name() == "cpu":
        _unlink_shm_buffers()
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    elif "OMP_NUM_THREADS" not in os.environ:
        # CPU ranks: torch would give every rank a thread per core, and N ranks would fight
        # over the cores; share them out instead (OMP_NUM_THREADS, if set, wins)
        local = next((int(os.environ[v]) for v in ("LOCAL_SIZE", "LOCAL_WORLD_SIZE",
                                                   "SLURM_NTASKS_PER_NODE",
                                                   "OMPI_COMM_WORLD_LOCAL_SIZE")
                      if os.environ.get(v, "").isdigit()), 1)
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // max(1, local)))


def shm_buffer_path(rank: int) -> str:
    """The shared-memory file DeepSpeed's CPU all-reduce makes for ``rank`` of this job."""
    return (f"/dev/shm/deepspeed_allreduce_buffer_{os.getuid()}_"
            f"{os.environ.get('MASTER_ADDR', '')}_{os.environ.get('MASTER_PORT', '')}_{rank}")


def _unlink_shm_buffers() -> None:
    """Remove this rank's ``/dev/shm`` all-reduce buffer name once every rank has mapped it.

    With all ranks on one machine, DeepSpeed's CPU backend gives each rank a ~66 MB shared-memory
    file that every other rank maps during ``init_distributed`` and that nothing ever unlinks
    (DeepSpeed 0.19.8 ``shm.cpp``): each CPU run, finished or killed, left them in RAM-backed
    ``/dev/shm`` (20 GB after a day of tests here, then the OOM killer). After a barrier every
    rank holds its mappings, so the names can go: the memory stays mapped for the job and is
    freed when its last rank exits, however it exits.
    """
    torch.distributed.barrier()
    try:
        os.unlink(shm_buffer_path(torch.distributed.get_rank()))
    except FileNotFoundError:
        pass  # ranks on several machines: DeepSpeed made no shared-memory buffer


def device() -> torch.device:
    from deepspeed.accelerator import get_accelerator

    return torch.device(get_accelerator().device_name(int(os.environ.get("LOCAL_RANK", "0"))))


def build_model(cfg: Mapping[str, Any], init: bool = True) -> torch.nn.Module:
    """The model of ``cfg['model']``; with ``init``, ``init_weights()`` once, as MMOCR's
    ``tools/train.py`` does before ``load_from`` (see :mod:`ocr_ds.models.common.base`)."""
    model = registry.build(registry.MODELS, cfg["model"], "model")
    if init and hasattr(model, "init_weights"):
        model.init_weights()
    return model


def model_facts(model: torch.nn.Module) -> ModelFacts:
    """The trainable parameters' sizes the translator derives ZeRO's buffer sizes from."""
    numels = tuple(p.numel() for p in model.parameters() if p.requires_grad)
    tensor = max(((p.numel(), n) for n, p in model.named_parameters() if p.requires_grad),
                 default=(0, ""))
    layer = max(((sum(p.numel() for p in m.parameters(recurse=False) if p.requires_grad), n)
                 for n, m in model.named_modules()), default=(0, ""))
    return ModelFacts(tensor_numels=numels, largest_layer=layer[0], largest_layer_name=layer[1],
                      largest_tensor_name=tensor[1])


def measure_model(cfg: Mapping[str, Any]) -> ModelFacts:
    """:func:`model_facts` of ``cfg['model']`` built on the meta device: no memory, no weights
    (for ``--dry-run``, which must not train or allocate a model to print the DeepSpeed JSON)."""
    with torch.device("meta"):
        return model_facts(build_model(cfg, init=False))


def load_weights(model: torch.nn.Module, path: str, logger: logging.Logger,
                 allow_unsafe_pickle: bool = False) -> None:
    """``--load-from``: our checkpoints, plain state dicts, MMOCR 0.6.3's checkpoints.

    Tensors load by name and shape (earlier ocr_ds names are renamed, with one note line);
    what does not load is listed, and one summary line ends the load. A checkpoint that gives
    fewer than half of the model's tensors is not one of this model: a :class:`UserError`.
    A file that is not weights-only is refused unless ``allow_unsafe_pickle``."""
    state, _ = load_checkpoint_any(path, allow_unsafe_pickle)
    match = match_state_dict(model, state)
    if len(match.loadable) * 2 < match.total:
        examples = [f"{k} missing" for k in match.missing[:2]] + [
            f"{k} {list(f)} in the file, {list(m)} here" for k, f, m in match.mismatched[:2]]
        raise UserError(f"load_from: expected a checkpoint of this {type(model).__name__} (got "
                        f"{path}, which has {len(match.loadable)} of its {match.total} tensors "
                        f"by name and shape; e.g. {'; '.join(examples)})")
    if match.renamed:
        old, new = match.renamed[0]
        logger.info("load_from: note: %d tensors have the names of an earlier ocr_ds (e.g. %s), "
                    "renamed to MMOCR's (%s)", len(match.renamed), old, new)
    for what, keys in (("missing in the checkpoint (kept at their initial values)",
                        match.missing),
                       ("in the checkpoint but not in the model (ignored)", match.unexpected),
                       ("of another shape in the checkpoint (kept at their initial values)",
                        [f"{k} {list(f)} vs {list(m)}" for k, f, m in match.mismatched])):
        if keys:
            more = f" and {len(keys) - 10} more" if len(keys) > 10 else ""
            logger.warning("load_from: %d tensors %s: %s%s", len(keys), what,
                           ", ".join(keys[:10]), more)
    model.load_state_dict(match.loadable, strict=False)
    complete = not (match.missing or match.unexpected or match.mismatched)
    logger.log(logging.INFO if complete else logging.WARNING, "load_from %s: %s", path,
               match.summary())


def build_engine(model: torch.nn.Module, ds_config: dict[str, Any], speed: Any = None) -> Any:
    """``deepspeed.initialize``, then the speed settings (:mod:`ocr_ds.translate.speed`):
    channels-last weights where the optimizer holds the parameters themselves, and
    ``engine.compile``."""
    import deepspeed

    params = [p for p in model.parameters() if p.requires_grad]
    engine, _, _, _ = deepspeed.initialize(model=model, model_parameters=params, config=ds_config)
    if speed is not None and speed.channels_last and not (
            engine.zero_optimization() or engine.fp16_enabled() or engine.bfloat16_enabled()):
        # Only now, and only here: DeepSpeed's initial broadcast views each parameter as bytes
        # (which a channels-last tensor cannot be), and under ZeRO or its fp16/bf16 optimizers
        # the parameters are views of flat buffers that a new layout would cut loose. Elsewhere
        # the channels-last inputs alone pick the NHWC kernels (the weights are reordered by
        # the convolution itself).
        model.to(memory_format=torch.channels_last)
    if speed is not None and speed.compile is not None:
        engine.compile(**speed.compile)
    if engine.world_size == 1 and not engine.zero_optimization():
        # a gradient all-reduce over one rank only flattens and copies every gradient back
        engine.enable_backward_allreduce = False
    share_zero3_fp32_partitions(engine.optimizer)
    share_zero12_fp32_partitions(engine.optimizer)
    return engine


def share_zero3_fp32_partitions(optimizer: Any) -> int:
    """Let ZeRO-3's optimizer update the parameter partitions in place when they are fp32 already.

    DeepSpeed 0.19's stage 3 means to (``_create_fp32_partitions``: "we don't need another copy
    of the weights"), but it compares the partitions' ``torch.device`` with a device *name*,
    which is never equal, so it keeps an fp32 clone of this rank's partition: 4 bytes per
    parameter / world size for nothing (benchmarks/zero_memory.py measured it). Every later use
    copies between the two with ``.data.copy_`` (step, checkpoint load), which DeepSpeed's own
    comments say is fine for aliases. Skipped under offload or NVMe swapping (other devices,
    other buffers). Returns the number of partitions now shared.
    """
    lp = getattr(optimizer, "fp16_partitioned_groups_flat", None)
    hp = getattr(optimizer, "fp32_partitioned_groups_flat", None)
    if not lp or not hp or getattr(optimizer, "offload_optimizer", False) or \
            getattr(optimizer, "offload_param", False) or getattr(optimizer, "swap_optimizer", False):
        return 0
    return sum(_share(low, high) for low, high in zip(lp, hp))


def share_zero12_fp32_partitions(optimizer: Any) -> int:
    """The same for ZeRO-1/2: let the optimizer update this rank's slice of the flat parameter
    buffer in place when the model is fp32.

    DeepSpeed 0.19's stage 1/2 always clones the slice as its "fp32 master"
    (``single_partition_of_fp32_groups``), a copy only mixed precision needs: in fp32 training
    that is 4 bytes per parameter / world size on every rank (ZeRO-2 held 0.757 x ZeRO-0 instead
    of 0.53 at 2 ranks). After each step DeepSpeed copies the master into the slice and
    all-gathers the slices; on checkpoint load it copies the other way: for aliases both are
    no-ops. Skipped under CPU offload (the master then lives elsewhere). Returns the number of
    slices now shared.
    """
    slices = getattr(optimizer, "parallel_partitioned_bit16_groups", None)
    masters = getattr(optimizer, "single_partition_of_fp32_groups", None)
    if not slices or not masters or getattr(optimizer, "cpu_offload", False):
        return 0
    shared = 0
    for i, (parts, master) in enumerate(zip(slices, masters)):
        rank = torch.distributed.get_rank(group=optimizer.real_dp_process_group[i])
        shared += _share(parts[rank], master)
    if shared and hasattr(optimizer, "_link_all_hp_params"):
        # the parameters' hp fragments (what a universal-checkpoint load writes into, and what
        # safe_get_full_fp32_param reads) were views of the old master storage: view the shared
        # one instead, or a resume on another world size loads into memory nobody reads
        optimizer._link_all_hp_params()
        optimizer._hp_optimizer_states_linked = False
    return shared


def _share(low: Any, high: Any) -> int:
    """Make ``high`` (the optimizer's copy) use ``low``'s storage when they are equal fp32 twins."""
    if (low is not None and high is not low and low.dtype == high.dtype
            and low.device == high.device and low.shape == high.shape
            and low.untyped_storage().data_ptr() != high.untyped_storage().data_ptr()
            and torch.equal(low, high)):
        high.data = low.data
        return 1
    return 0


def input_dtype(ds_config: Mapping[str, Any]) -> torch.dtype | None:
    """Float inputs must match a half-precision module (autocast keeps fp32 inputs)."""
    if (ds_config.get("fp16") or {}).get("enabled"):
        return torch.float16
    if (ds_config.get("bf16") or {}).get("enabled"):
        return torch.bfloat16
    return None
