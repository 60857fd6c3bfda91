"""Every MMOCR 0.6.3 config of a model we support trains unchanged, given its data paths.

For each row of :data:`CONFIGS`, the real MMOCR 0.6.3 file (from the reference venv's
``mmocr/.mim/configs``, untouched) trains through ``ocr_ds/train.py`` for 2 iterations on tiny
generated data written at the paths it names (``tiny_data.py``), evaluates with its own
``evaluation`` settings, and saves a checkpoint. What the command line changes is only what
makes it a 2-iteration smoke run: batch size (2 iterations per epoch), ``repeat=1``, one epoch
(or 2 iterations), evaluation/checkpoint/log intervals, no loader workers. ImageNet weights
that configs ask for as ``torchvision://resnetNN`` are random stand-ins in a private torch hub
cache (``TORCH_HOME``).

Families add their configs to :data:`CONFIGS`; a row may name a ``prepare`` function that
writes further data the config needs (a dictionary file, say).
"""
from __future__ import annotations

import concurrent.futures
import glob
import json
import math
import os
import shutil
import subprocess
import sys

import pytest

from ocr_ds.config import Config
from ocr_ds.tools.analyze_logs import curves, load_json_logs
from tiny_data import leaves, make_data, torchvision_weights

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TRAIN = os.path.join(ROOT, "ocr_ds", "train.py")

# MMOCR 0.6.3 config (relative to its configs/) -> the metric key its evaluation must log
CONFIGS: dict[str, str] = {
    # text recognition
    "textrecog/crnn/crnn_academic_dataset.py": "word_acc",
    "textrecog/crnn/crnn_toy_dataset.py": "word_acc",
    "textrecog/tps/crnn_tps_academic_dataset.py": "word_acc",
    "textrecog/sar/sar_r31_parallel_decoder_academic.py": "word_acc",
    "textrecog/sar/sar_r31_parallel_decoder_toy_dataset.py": "word_acc",
    "textrecog/sar/sar_r31_parallel_decoder_chinese.py": "word_acc",
    "textrecog/sar/sar_r31_sequential_decoder_academic.py": "word_acc",
    "textrecog/robust_scanner/robustscanner_r31_academic.py": "word_acc",
    "textrecog/nrtr/nrtr_modality_transform_academic.py": "word_acc",
    "textrecog/nrtr/nrtr_modality_transform_toy_dataset.py": "word_acc",
    "textrecog/nrtr/nrtr_r31_1by16_1by8_academic.py": "word_acc",
    "textrecog/nrtr/nrtr_r31_1by8_1by4_academic.py": "word_acc",
    "textrecog/satrn/satrn_academic.py": "word_acc",
    "textrecog/satrn/satrn_small.py": "word_acc",
    # ABINet: abinet_academic.py starts from scratch in MMOCR 0.6.3 too (load_from None, the
    # language model's init_cfg None); the zoo's weights have a language model converted from
    # the paper's, which no config names
    "textrecog/abinet/abinet_vision_only_academic.py": "word_acc",
    "textrecog/abinet/abinet_academic.py": "word_acc",
    "textrecog/master/master_r31_12e_ST_MJ_SA.py": "word_acc",
    "textrecog/master/master_toy_dataset.py": "word_acc",
    # SegOCR
    "textrecog/seg/seg_r31_1by16_fpnocr_academic.py": "word_acc",
    "textrecog/seg/seg_r31_1by16_fpnocr_toy_dataset.py": "word_acc",
    # text detection
    "textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py": "hmean-iou:hmean",
    "textdet/dbnet/dbnet_r50dcnv2_fpnc_1200e_icdar2015.py": "hmean-iou:hmean",
    "textdet/dbnet/dbnet_r50dcnv2_fpnc_100k_iters_synthtext.py": "hmean-iou:hmean",
    "textdet/dbnetpp/dbnetpp_r50dcnv2_fpnc_1200e_icdar2015.py": "hmean-iou:hmean",
    "textdet/dbnetpp/dbnetpp_r50dcnv2_fpnc_100k_iter_synthtext.py": "hmean-iou:hmean",
    "textdet/psenet/psenet_r50_fpnf_600e_icdar2015.py": "hmean-iou:hmean",
    "textdet/psenet/psenet_r50_fpnf_600e_ctw1500.py": "hmean-iou:hmean",
    "textdet/psenet/psenet_r50_fpnf_600e_icdar2017.py": "hmean-iou:hmean",
    "textdet/panet/panet_r18_fpem_ffm_600e_ctw1500.py": "hmean-iou:hmean",
    "textdet/panet/panet_r18_fpem_ffm_600e_icdar2015.py": "hmean-iou:hmean",
    "textdet/panet/panet_r50_fpem_ffm_600e_icdar2017.py": "hmean-iou:hmean",
    "textdet/fcenet/fcenet_r50_fpn_1500e_icdar2015.py": "hmean-iou:hmean",
    "textdet/fcenet/fcenet_r50dcnv2_fpn_1500e_ctw1500.py": "hmean-iou:hmean",
    "textdet/textsnake/textsnake_r50_fpn_unet_1200e_ctw1500.py": "hmean-iou:hmean",
    "textdet/drrg/drrg_r50_fpn_unet_1200e_ctw1500.py": "hmean-iou:hmean",
    "textdet/maskrcnn/mask_rcnn_r50_fpn_160e_ctw1500.py": "hmean-iou:hmean",
    "textdet/maskrcnn/mask_rcnn_r50_fpn_160e_icdar2015.py": "hmean-iou:hmean",
    # key information extraction
    "kie/sdmgr/sdmgr_unet16_60e_wildreceipt.py": "macro_f1",
    "kie/sdmgr/sdmgr_novisual_60e_wildreceipt.py": "macro_f1",
    "kie/sdmgr/sdmgr_novisual_60e_wildreceipt_openset.py": "edge_openset_f1",
    # named entity recognition: full-size BERT (102 M parameters); its metrics are per
    # category, with 'all' over every entity (MMOCR's eval_ner_f1)
    "ner/bert_softmax/bert_softmax_cluener_18e.py": "all",
}
# rows marked None are not supported yet (their family is being built); they are skipped


def dict_file(cfg: dict, root: str) -> None:
    """The ``dict_file`` a label convertor names (MMOCR's comes from its model zoo): the
    characters of the tiny data's words, one a line."""
    from tiny_data import WORDS

    path = os.path.join(root, cfg["model"]["label_convertor"]["dict_file"])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"{c}\n" for c in sorted(set("".join(WORDS))))


def _load_from_checkpoint(cfg: dict, root: str) -> None:
    """The checkpoint a fine-tuning config's ``load_from`` names (MMOCR's R50-DCN ICDAR 2015
    configs start from their SynthText run): this model's own initial weights, saved there."""
    import torch

    from ocr_ds import registry

    model_cfg = dict(cfg["model"], backbone=dict(cfg["model"]["backbone"], init_cfg=None))
    model = registry.build(registry.MODELS, model_cfg, "model")
    path = os.path.join(root, cfg["load_from"])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save({"state_dict": model.state_dict()}, path)


def _bert_pretrain(cfg: dict, root: str) -> None:
    """A stand-in for MMOCR's ``bert_pretrain.pth``, which the config's encoder loads from an
    https URL, in the run's torch hub cache (where mmcv would have downloaded it): a few of
    its tensors under their names, so the URL path runs without a download (the rest keep
    BERT's own init, with a warning)."""
    import torch

    from ocr_ds.models.ner.encoder import BertEncoder

    url = cfg["model"]["encoder"]["init_cfg"]["checkpoint"]
    folder = os.path.join(root, "torch", "hub", "checkpoints")
    os.makedirs(folder, exist_ok=True)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in BertEncoder(max_position_embeddings=512)
                  .state_dict().items()}
    torch.save({k: torch.randn(shapes[k]) * 0.02 for k in (
        "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias",
        "bert.pooler.dense.weight", "bert.pooler.dense.bias")},
        os.path.join(folder, url.rsplit("/", 1)[-1]))


PREPARE: dict[str, object] = {
    "ner/bert_softmax/bert_softmax_cluener_18e.py": _bert_pretrain,
    "textdet/dbnet/dbnet_r50dcnv2_fpnc_1200e_icdar2015.py": _load_from_checkpoint,
    "textdet/dbnetpp/dbnetpp_r50dcnv2_fpnc_1200e_icdar2015.py": _load_from_checkpoint,
    "textrecog/sar/sar_r31_parallel_decoder_chinese.py": dict_file,
}


def smoke_options(cfg: dict, train_counts: dict[str, int]) -> list[str]:
    """The ``--cfg-options`` that make ``cfg`` a 2-iteration run on the tiny data."""
    opts = ["data.workers_per_gpu=0", "log_config.interval=1"]
    for key, spec in leaves(cfg["data"]["train"], "data.train"):
        if "repeat" in spec.get("loader", {}):
            opts.append(f"{key}.loader.repeat=1")
    per_gpu = math.ceil(sum(train_counts.values()) / 2)
    opts.append(f"data.samples_per_gpu={per_gpu}")
    if "train_dataloader" in cfg["data"]:
        opts.append(f"data.train_dataloader.samples_per_gpu={per_gpu}")
    for split in ("val", "test"):
        if f"{split}_dataloader" in cfg["data"]:
            opts.append(f"data.{split}_dataloader.samples_per_gpu=1")
    by_iter = cfg.get("runner", {}).get("type") == "IterBasedRunner"
    if by_iter:
        opts += ["runner.max_iters=2", "evaluation.interval=2", "checkpoint_config.interval=2"]
    else:
        opts += ["evaluation.interval=1", "checkpoint_config.interval=1"]
        opts += ["runner.max_epochs=1"] if "runner" in cfg else []
        opts += ["total_epochs=1"] if "total_epochs" in cfg else []
    return opts


def _train_row(name: str, configs: str, root) -> tuple[dict, subprocess.CompletedProcess, list]:
    """Write the tiny data of MMOCR's config ``name`` under ``root`` and train it there (2
    iterations, evaluation, checkpoint): (config, the process, its command)."""
    path = os.path.join(configs, name)
    cfg = Config.fromfile(path).to_dict()
    counts = make_data(cfg, str(root))
    torchvision_weights(str(root / "torch"))
    if name in PREPARE:
        PREPARE[name](cfg, str(root))
    cmd = [sys.executable, TRAIN, path, "--work-dir", str(root / "work"), "--seed", "0",
           "--cfg-options", *smoke_options(cfg, counts)]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1",
               TORCH_HOME=str(root / "torch"))
    try:
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                              timeout=600)
    except subprocess.TimeoutExpired as hung:    # a failure that shows where it stood
        proc = subprocess.CompletedProcess(cmd, "killed after 600 s", *(
            out.decode(errors="replace") if isinstance(out, bytes) else out or ""
            for out in (hung.stdout, hung.stderr)))
    return cfg, proc, cmd


@pytest.fixture(scope="module")
def zoo_runs(request, mmocr_configs, tmp_path_factory):
    """Every selected row's run, started at once two at a time (each runs one thread, so two
    keep both cores busy), in the order the tests ask for them."""
    names = [item.callspec.params["name"] for item in request.session.items
             if getattr(item, "originalname", None) == "test_mmocr_config_trains_two_iterations"
             and CONFIGS.get(item.callspec.params["name"]) is not None]
    pool = concurrent.futures.ThreadPoolExecutor(2)
    runs = {name: pool.submit(_train_row, name, mmocr_configs,
                              tmp_path_factory.mktemp(name.rsplit("/", 1)[-1][:-3]))
            for name in names}
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_mmocr_config_trains_two_iterations(name, zoo_runs):
    if CONFIGS[name] is None:
        pytest.skip(f"{name}: its model family is not supported yet")
    cfg, proc, cmd = zoo_runs[name].result(timeout=1200)
    assert proc.returncode == 0, (f"{' '.join(cmd)}: {proc.returncode}\n{proc.stdout[-3000:]}\n"
                                  f"{proc.stderr[-3000:]}")
    work = cmd[cmd.index("--work-dir") + 1]
    (log,) = glob.glob(os.path.join(work, "*.log.json"))
    with open(log) as f:
        events = [json.loads(line) for line in f][1:]
    train = [e for e in events if e.get("mode") == "train"]
    assert len(train) == 2 and all(math.isfinite(e["loss"]) for e in train), train
    val = [e for e in events if e.get("mode") == "val"]
    assert val and any(k.endswith(CONFIGS[name]) for k in val[-1]), val
    # MMOCR's analyze_logs on it: the loss per iteration, the metric per epoch
    metric = next(k for k in val[-1] if k.endswith(CONFIGS[name]))
    loss, score = curves(load_json_logs([log]), [log], ["loss", metric], None)
    assert loss[1:] == ("iter", [e["iter"] for e in train], [e["loss"] for e in train])
    assert score[1] == "epoch" and score[3] == [e[metric] for e in val]
    assert glob.glob(os.path.join(work, "iter_2" if "max_iters" in str(cfg.get("runner")) else
                                  "epoch_1"))
    # the row passed: free its disk (full-size models: up to ~1 GB of checkpoint a row, and
    # pytest keeps the last three runs' temporary directories)
    shutil.rmtree(os.path.dirname(work))
