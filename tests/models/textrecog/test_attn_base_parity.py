"""The encoder-decoder recognition foundation against MMOCR 0.6.3's own code: AttnConvertor,
CE/SAR/TF losses, ResNet31OCR, the SAR pipeline steps with test-time rotation, and the model
trees of the shipped SAR / RobustScanner configs."""
import copy
import os

import numpy as np
import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.datasets.collate import collate
from ocr_ds.datasets.pipelines import Compose
from ocr_ds.errors import UserError
from ocr_ds.models.textrecog.convertors.attn import AttnConvertor
from ocr_ds.registry import COMPONENTS, MODELS, build
from parity import assert_close, assert_same_keys, ref_file
from textrecog_parity import seed_all

torch.set_num_threads(1)
REF = ref_file(__file__, "mmocr_textrecog.py")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
CONFIGS = ["textrecog/sar/sar_r31_parallel_decoder_academic.py",
           "textrecog/sar/sar_r31_parallel_decoder_toy_dataset.py",
           "textrecog/sar/sar_r31_sequential_decoder_academic.py",
           "textrecog/sar/sar_r31_parallel_decoder_chinese.py",
           "textrecog/robust_scanner/robustscanner_r31_academic.py"]


def _outputs(num_classes, end_idx, seed):
    gen = torch.Generator().manual_seed(seed)
    out = torch.rand(3, 6, num_classes - 1, generator=gen)
    out[0, 3, end_idx] = 5.0   # stops the first text after 3 characters
    out[1, 0, end_idx] = 5.0   # an empty text
    return out


def test_attn_convertor_matches_mmocr(mmocr_ref, tmp_path):
    dict_file = tmp_path / "dict.txt"
    dict_file.write_text("中\n\n文\na\r\n英\n", encoding="utf-8")
    cases = [
        (dict(dict_type="DICT36", with_unknown=True, max_seq_len=6, lower=True),
         ["Ab1", "abcdefgh", "", "a?b", "abcd", "abcde"]),
        (dict(dict_type="DICT90", with_unknown=False, start_end_same=False, max_seq_len=10),
         ["Hello!", "A~b", ""]),
        (dict(dict_list=["a", "b", "c"], with_unknown=True, max_seq_len=5), ["abcx", "ccc"]),
        (dict(dict_file=str(dict_file), with_unknown=True), ["中文", "英a", "中x"]),
    ]
    for i, (cfg, texts) in enumerate(cases):
        ours = AttnConvertor(**cfg)
        outputs = _outputs(ours.num_classes(), ours.end_idx, seed=i)
        theirs = mmocr_ref.call(REF, "convertor", cfg=dict(cfg, type="AttnConvertor"),
                                texts=texts, outputs=outputs)
        enc = ours.str2tensor(texts)
        indexes, scores = ours.tensor2idx(outputs)
        assert ours.idx2char == theirs["idx2char"]
        for name in ("start_idx", "end_idx", "padding_idx", "unknown_idx"):
            assert getattr(ours, name) == theirs[name], name
        assert ours.num_classes() == theirs["num_classes"]
        assert_close(enc["targets"], theirs["targets"], rtol=0, atol=0, what="targets")
        assert_close(enc["padded_targets"], theirs["padded_targets"], rtol=0, atol=0)
        assert indexes == theirs["indexes"]
        assert_close(scores, theirs["scores"], what="scores")
        assert ours.idx2str(indexes) == theirs["texts"]


def test_attn_convertor_errors_and_unknown_characters(caplog):
    conv = AttnConvertor(dict_type="DICT36", with_unknown=False, max_seq_len=5)
    # MMOCR raises mid-epoch; here the character is dropped with one warning
    assert conv.str2idx(["a?b", "c?"]) == [[10, 11], [12]]
    assert sum("not in the dictionary" in r.getMessage() for r in caplog.records) == 1
    with pytest.raises(UserError, match=r"model.label_convertor.dict_type: unknown 'DICT99'"):
        AttnConvertor(dict_type="DICT99")
    with pytest.raises(UserError, match=r"model.label_convertor.max_seq_len: expected a "
                                        r"positive integer \(got 0\)"):
        AttnConvertor(max_seq_len=0)
    with pytest.raises(UserError, match=r"dict_file: file not found"):
        AttnConvertor(dict_file="/nonexistent/dict.txt")


def test_losses_match_mmocr(mmocr_ref):
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 7, 10, generator=gen)
    targets = torch.randint(0, 10, (2, 7), generator=gen)
    targets[1, 5:] = 9
    cfgs = [dict(type="CELoss", ignore_index=9),
            dict(type="CELoss", ignore_index=9, reduction="mean", ignore_first_char=True),
            dict(type="SARLoss", ignore_index=9),
            dict(type="TFLoss", ignore_index=9),
            dict(type="TFLoss", ignore_index=9, flatten=False, reduction="sum")]
    theirs = mmocr_ref.call(REF, "losses", cfgs=cfgs, outputs=logits, padded_targets=targets)
    for cfg, ref in zip(cfgs, theirs):
        x = logits.clone().requires_grad_(True)
        loss = build(COMPONENTS, cfg, "model.loss")(x, dict(padded_targets=targets))["loss_ce"]
        loss.sum().backward()
        assert_close(loss, ref["loss"], what=f"{cfg} loss")
        assert_close(x.grad, ref["grad"], what=f"{cfg} grad")


@pytest.mark.parametrize("options", [
    dict(),
    dict(out_indices=[0, 1, 2, 3], last_stage_pool=True,
         stage4_pool_cfg=dict(kernel_size=2, stride=2)),
])
def test_resnet31_ocr_matches_mmocr(mmocr_ref, options):
    cfg = dict(type="ResNet31OCR", layers=[1, 2, 1, 1], channels=[8, 16, 16, 24, 32, 32, 32],
               **options)
    x = torch.randn(2, 3, 32, 40, generator=torch.Generator().manual_seed(1))
    theirs = mmocr_ref.call(REF, "backbone", cfg=cfg, seed=4, x=x)
    seed_all(4)
    net = build(COMPONENTS, cfg, "model.backbone")
    net.init_weights()
    assert_close(net.state_dict(), theirs["state"], rtol=0, atol=0, what="initial state")
    assert_close(net.train()(x), theirs["train_out"], what="train output")
    with torch.no_grad():
        assert_close(net.eval()(x), theirs["eval_out"], what="eval output")


def test_config_model_trees_match_mmocr(mmocr_ref, tmp_path):
    """Every shipped SAR / RobustScanner config: MMOCR's state-dict keys and shapes."""
    dict_file = tmp_path / "dict.txt"
    dict_file.write_text("\n".join(chr(0x4e00 + i) for i in range(300)), encoding="utf-8")
    cfgs = []
    for name in CONFIGS:
        model = copy.deepcopy(Config.fromfile(os.path.join(ROOT, "configs", name))["model"])
        if "dict_file" in model["label_convertor"]:
            model["label_convertor"]["dict_file"] = str(dict_file)
        cfgs.append(model)
    theirs = mmocr_ref.call(REF, "model_shapes", model_cfgs=cfgs)
    for name, cfg, shapes in zip(CONFIGS, cfgs, theirs):
        with torch.device("meta"):
            model = build(MODELS, cfg, "model")
        assert_same_keys(model.state_dict(), {k: torch.empty(0).new_empty(v, device="meta")
                                              for k, v in shapes.items()})


SAR_STEPS = [dict(type="ResizeOCR", height=48, min_width=48, max_width=160,
                  keep_aspect_ratio=True, width_downsample_ratio=0.25),
             dict(type="ToTensorOCR"),
             dict(type="NormalizeOCR", mean=[0.5] * 3, std=[0.5] * 3),
             dict(type="Collect", keys=["img"],
                  meta_keys=["filename", "ori_shape", "resize_shape", "text", "valid_ratio"])]
PIPELINES = {
    "sar": SAR_STEPS,
    "no-keep-ratio": [dict(SAR_STEPS[0], keep_aspect_ratio=False), *SAR_STEPS[1:]],
    "unbounded": [dict(type="ResizeOCR", height=32), *SAR_STEPS[1:]],
    "edge-pad": [dict(SAR_STEPS[0], padding_mode="edge"), *SAR_STEPS[1:]],
    "pad-255": [dict(SAR_STEPS[0], img_pad_value=255), *SAR_STEPS[1:]],
    "rotate": [dict(type="MultiRotateAugOCR", rotate_degrees=[0, 90, 270],
                    transforms=SAR_STEPS)],
}


def _images():
    gen = torch.Generator().manual_seed(2)
    return [torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8)
            for shape in ((20, 50, 3), (50, 20, 3), (31, 31, 3), (12, 200, 3))]


@pytest.mark.parametrize("name", list(PIPELINES))
def test_recognition_pipeline_matches_mmocr(mmocr_ref, name):
    images, texts = _images(), ["ab", "cd", "ef", "gh"]
    theirs = mmocr_ref.call(REF, "pipeline", steps=PIPELINES[name], images=images, texts=texts)
    pipe = Compose(copy.deepcopy(PIPELINES[name]))
    for img, text, ref in zip(images, texts, theirs):
        arr = img.numpy()
        sample = pipe(dict(img=arr, img_shape=arr.shape, ori_shape=arr.shape, filename="x.png",
                           ori_filename="x.png", text=text, img_info=dict(filename="x.png")))
        views = [(sample["img"], sample["img_metas"])]
        views += [(v["img"], v["img_metas"]) for v in sample["img_metas"].get("aug_views", [])]
        ref_views = (list(zip(ref["img"], ref["metas"])) if isinstance(ref["img"], list)
                     else [(ref["img"], ref["metas"])])
        assert len(views) == len(ref_views)
        for (ours_img, ours_meta), (ref_img, ref_meta) in zip(views, ref_views):
            assert_close(ours_img, ref_img, what="image")
            assert_close({k: ours_meta[k] for k in ref_meta}, ref_meta, what="metas")


def test_rotated_views_decode_as_mmocr_aug_test(mmocr_ref):
    """A tall crop is read at 0, 90 and 270 degrees and the best view wins, as in MMOCR."""
    model_cfg = dict(
        type="SARNet", backbone=dict(type="ResNet31OCR", layers=[1, 1, 1, 1],
                                     channels=[8, 16, 16, 16, 32, 32, 32]),
        encoder=dict(type="SAREncoder", d_model=32, d_enc=16),
        decoder=dict(type="ParallelSARDecoder", d_model=32, d_enc=16, d_k=8, pred_concat=True),
        loss=dict(type="SARLoss"),
        label_convertor=dict(type="AttnConvertor", dict_type="DICT36", max_seq_len=6),
        max_seq_len=6)
    steps = [dict(PIPELINES["rotate"][0],
                  transforms=[*SAR_STEPS[:3], dict(SAR_STEPS[3], meta_keys=[
                      "filename", "ori_shape", "resize_shape", "valid_ratio"])])]
    images = _images()
    theirs = mmocr_ref.call(REF, "aug_test", model_cfg=model_cfg, seed=6, steps=steps,
                            images=images)
    seed_all(6)
    model = build(MODELS, model_cfg, "model")
    model.init_weights()
    model.eval()
    pipe = Compose(copy.deepcopy(steps))
    samples = []
    for img in images:
        arr = img.numpy()
        samples.append(pipe(dict(img=arr, img_shape=arr.shape, ori_shape=arr.shape,
                                 filename="x.png", ori_filename="x.png",
                                 img_info=dict(filename="x.png"))))
    assert [1 + len(s["img_metas"].get("aug_views", [])) for s in samples] == \
        [r["views"] for r in theirs]
    with torch.no_grad():
        ours = model(collate(samples), return_loss=False)   # one batch, all views at once
    assert [r["text"] for r in ours] == [r["text"] for r in theirs]
    assert_close([r["score"] for r in ours], [r["score"] for r in theirs], what="score")
    assert np.isfinite([r["score"] for r in ours]).all()


def test_shipped_files_are_mmocrs(mmocr_ref):
    """The SAR / RobustScanner configs and their _base_ files are MMOCR 0.6.3's, verbatim."""
    files = [*CONFIGS, "_base_/recog_models/sar.py", "_base_/recog_models/robust_scanner.py",
             "_base_/recog_pipelines/sar_pipeline.py",
             "_base_/recog_datasets/ST_SA_MJ_real_train.py", "_base_/recog_datasets/toy_data.py",
             "_base_/recog_datasets/academic_test.py",
             "_base_/schedules/schedule_adam_step_5e.py"]
    common = ref_file(os.path.join(ROOT, "tests", "parity", "x"), "mmocr_common.py")
    for name in files:
        with open(os.path.join(ROOT, "configs", name), encoding="utf-8") as f:
            assert f.read() == mmocr_ref.call(common, "config_text", path=name), name
