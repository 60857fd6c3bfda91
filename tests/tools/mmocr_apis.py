"""Ref side of test_apis.py: MMOCR 0.6.3's ``mmocr.apis`` (init_detector, model_inference,
text_model_inference) and its models' ``show_result``."""
import warnings

import cv2
import numpy as np
import torch

np.int = int        # MMOCR 0.6.3's KIE box sorting uses np.int, gone from the venv's numpy


def _picture(path):
    img = cv2.imread(path)
    return None if img is None else torch.from_numpy(img)


def runs(det, recog, rot, kie, ner, images, crops, words, sentences, out_dir):
    """Every call of the test (each model: ``(config, checkpoint)``), its results and the
    pictures ``show_result`` wrote or returned. Recognisers get batches of one (MMOCR asserts
    on more). Files before arrays: MMOCR's model_inference
    turns the model's own test pipeline into LoadImageFromNdarray on an array (a shallow
    ``cfg.copy()``), after which files fail."""
    from mmocr.apis import init_detector, model_inference
    from mmocr.apis.inference import text_model_inference
    from mmocr.datasets.kie_dataset import KIEDataset

    warnings.simplefilter("ignore")
    out = {}
    model = init_detector(*det, device="cpu")
    out["det_file"] = model_inference(model, images[0])
    out["det_list"] = model_inference(model, [images[0]])
    out["det_batch"] = model_inference(model, [cv2.imread(p) for p in images], batch_mode=True)
    result, data = model_inference(model, images[0], return_data=True)
    out["det_data_shape"] = list(data["img"][0].data.shape)
    out["det_array"] = model_inference(model, cv2.imread(images[1]))
    returned = model.show_result(images[0], out["det_file"], score_thr=0.3)
    out["det_shown"] = torch.from_numpy(returned)
    model.show_result(images[0], out["det_file"], score_thr=0.0, bbox_color="red",
                      thickness=2, out_file=f"{out_dir}/det/red.png")
    out["det_red"] = _picture(f"{out_dir}/det/red.png")
    model = init_detector(*recog, device="cpu")
    out["recog_files"] = [model_inference(model, p) for p in crops]
    out["recog_batch"] = model_inference(model, [cv2.imread(crops[2])], batch_mode=True)
    returned = model.show_result(crops[0], out["recog_files"][0])
    out["recog_shown"] = torch.from_numpy(returned)
    out["recog_returned"] = torch.from_numpy(model.show_result(
        crops[1], out["recog_files"][1], gt_label="42", out_file=f"{out_dir}/recog.png"))
    out["recog_gt"] = _picture(f"{out_dir}/recog.png")
    model = init_detector(*rot, device="cpu")
    out["rot_file"] = model_inference(model, crops[0])
    out["rot_batch"] = model_inference(model, crops[:1], batch_mode=True)
    model = init_detector(*kie, device="cpu")
    dataset = KIEDataset(dict_file=model.cfg.data.test.dict_file)
    ann = dataset._parse_anno_info(words)
    ann["ori_bboxes"] = ann.get("ori_bboxes", ann["bboxes"])
    ann["gt_bboxes"] = ann.get("gt_bboxes", ann["bboxes"])
    out["kie"] = model_inference(model, cv2.imread(images[0]), ann=ann)
    model = init_detector(*ner, device="cpu")
    out["ner"] = [text_model_inference(model, s) for s in sentences]
    return out


def config_utils(cfgs, tensor):
    """mmocr.apis.utils on each ``data`` dict (and its val/test choice): replace_image_to_tensor,
    disable_text_recog_aug_test; and tensor2grayimgs."""
    import mmcv
    from mmocr.apis import (disable_text_recog_aug_test, replace_image_to_tensor,
                            tensor2grayimgs)

    out = []
    for data, set_types in cfgs:
        cfg = mmcv.Config(dict(data=data))
        out.append([replace_image_to_tensor(cfg, set_types).to_dict()["data"],
                    disable_text_recog_aug_test(cfg, set_types).to_dict()["data"]])
    images = tensor2grayimgs(tensor)
    return out, [torch.from_numpy(img) for img in images]


def ner_entities(config, checkpoint, sentences):
    """MMOCR's ``text_model_inference`` on each sentence (what its demo/ner_demo.py prints)."""
    import mmocr.datasets  # noqa: F401  (registers the pipeline steps, as the demo's import)
    from mmocr.apis import init_detector
    from mmocr.apis.inference import text_model_inference

    warnings.simplefilter("ignore")
    model = init_detector(config, checkpoint, device="cpu")
    return [text_model_inference(model, s) for s in sentences]
