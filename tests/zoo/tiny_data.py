"""Tiny data at exactly the paths an MMOCR config names, in the format its datasets read.

:func:`make_data` walks ``data.train``/``val``/``test`` of a loaded config (through
``ConcatDataset``/``UniformConcatDataset``) and writes, under ``root`` (the directory the run
starts in, so MMOCR's relative ``data/...`` paths resolve), for every leaf dataset:

* ``IcdarDataset``: a COCO json at ``ann_file`` and its scenes under ``img_prefix``;
* ``TextDetDataset``: the same scenes, one JSON line per image (``file_name``, ``height``,
  ``width``, ``annotations``) in a txt file or a label lmdb, as its loader says;
* ``OCRDataset``: word crops under ``img_prefix`` and their labels in a txt file or a label
  lmdb, in the parser's layout (``LineStrParser`` keys/keys_idx/separator, or
  ``LineJsonParser``);
* ``OCRSegDataset``: word crops drawn a character at a time, one JSON line per crop with each
  character's box (``file_name``, ``annotations=[{char_text, char_box}]``, ``text``; boxes
  alternate between ``xyxy`` rectangles and 8-number quadrangles);
* ``KIEDataset`` / ``OpensetKIEDataset``: receipt-like images of a few word boxes, one JSON
  line per image (``file_name``, ``height``, ``width``, ``annotations=[{box, text, label,
  edge}]``), and the ``dict_file`` (the words' characters, one a line).
  alternate between ``xyxy`` rectangles and 8-number quadrangles).
* ``NerDataset``: CLUENER-style JSON lines (``text``, ``label={category: {entity: [[start,
  end]]}}``) over the config's categories, and the vocabulary file its ``NerConvertor`` names
  (BERT's layout: ``[PAD]``, 99 unused, ``[UNK]`` at 100, ``[CLS]``, ``[SEP]``, ``[MASK]``, then
  the texts' characters).

Images come from the project's generators (``ocr_ds.tools.gen_det_data`` scenes -- its curved
CTW1500-style ones, 14-point polygons, for data under a ``ctw1500`` path -- and
``gen_recog_data`` words), a fixed seed per dataset.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, Iterator, Mapping

import cv2
import lmdb
import numpy as np

from ocr_ds.tools.gen_det_data import curved_scene, scene
from ocr_ds.tools.gen_recog_data import render_word

WORDS = ["hello", "world", "ocr", "text", "zoo", "model", "seven", "eight"]


def leaves(spec: Any, key: str) -> Iterator[tuple[str, Mapping]]:
    """``(key path, dataset dict)`` of every leaf dataset under ``spec``."""
    if not isinstance(spec, Mapping):
        return
    if "datasets" in spec:
        for i, member in enumerate(spec["datasets"]):
            yield from leaves(member, f"{key}.datasets.{i}")
    else:
        yield key, spec


def _write_image(path: str, img: np.ndarray) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ok, buf = cv2.imencode(os.path.splitext(path)[1] or ".jpg", img)
    assert ok
    with open(path, "wb") as f:
        f.write(buf.tobytes())


def _write_lines(path: str, lines: list[str], file_format: str) -> None:
    """A text file, or an MMOCR 0.6 label lmdb (``num-samples``, ``label-%09d`` from 1)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if file_format == "lmdb":
        env = lmdb.open(path, map_size=1 << 24)
        with env.begin(write=True) as txn:
            txn.put(b"num-samples", str(len(lines)).encode())
            for i, line in enumerate(lines, 1):
                txn.put(f"label-{i:09d}".encode(), line.encode("utf-8"))
        env.close()
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in lines)


def _scenes(rng: np.random.Generator, count: int, size: int, curved: bool = False):
    for i in range(count):
        img, anns = curved_scene(rng, size) if curved else scene(rng, size)
        yield f"img_{i + 1}.jpg", img, anns


def _coco_anns(anns, image_id: int, first_id: int) -> list[dict]:
    out = []
    for j, (quad, text) in enumerate(anns):
        pts = [int(v) for v in np.asarray(quad).reshape(-1)]
        xs, ys = pts[0::2], pts[1::2]
        w, h = max(xs) - min(xs), max(ys) - min(ys)
        out.append(dict(id=first_id + j, image_id=image_id, category_id=1,
                        bbox=[min(xs), min(ys), w, h], area=float(w * h),
                        segmentation=[pts], iscrowd=int(text == "###")))
    return out


def make_det(spec: Mapping, root: str, rng: np.random.Generator, count: int, size: int) -> None:
    ann_file = os.path.join(root, spec["ann_file"])
    img_prefix = os.path.join(root, spec["img_prefix"])
    curved = "ctw1500" in spec["ann_file"].lower()
    if spec["type"] == "IcdarDataset":
        images, annotations = [], []
        for i, (name, img, anns) in enumerate(_scenes(rng, count, size, curved)):
            _write_image(os.path.join(img_prefix, name), img)
            images.append(dict(id=i, file_name=name, height=size, width=size))
            annotations += _coco_anns(anns, i, len(annotations))
        os.makedirs(os.path.dirname(ann_file), exist_ok=True)
        with open(ann_file, "w", encoding="utf-8") as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=[dict(id=1, name="text")]), f)
        return
    # TextDetDataset: JSON lines through its loader
    loader = spec.get("loader", {})
    lines = []
    for i, (name, img, anns) in enumerate(_scenes(rng, count, size, curved)):
        _write_image(os.path.join(img_prefix, name), img)
        lines.append(json.dumps(dict(file_name=name, height=size, width=size,
                                     annotations=_coco_anns(anns, i, 0))))
    _write_lines(ann_file, lines, loader.get("file_format", "txt"))


def make_recog(spec: Mapping, root: str, rng: np.random.Generator, count: int) -> None:
    loader = spec.get("loader", {})
    parser = loader.get("parser", {"type": "LineStrParser"})
    img_prefix = os.path.join(root, spec.get("img_prefix") or "")
    lines = []
    for i in range(count):
        word = WORDS[i % len(WORDS)]
        name = f"word_{i + 1}.jpg"
        _write_image(os.path.join(img_prefix, name), render_word(word, rng))
        if parser.get("type") == "LineJsonParser":
            keys = parser.get("keys", ["filename", "text"])
            lines.append(json.dumps({keys[0]: name, keys[1]: word}))
        else:
            keys = parser.get("keys", ["filename", "text"])
            idx = parser.get("keys_idx", [0, 1])
            sep = parser.get("separator", " ")
            fields = [""] * (max(idx) + 1)
            values = dict(filename=name, text=word)
            for k, j in zip(keys, idx):
                fields[j] = values.get(k, "0")
            lines.append(sep.join(fields))
    _write_lines(os.path.join(root, spec["ann_file"]), lines, loader.get("file_format", "txt"))


def make_charbox(spec: Mapping, root: str, rng: np.random.Generator, count: int) -> None:
    """Word crops with character boxes, in ``OCRSegDataset``'s JSON-lines layout."""
    keys = spec.get("loader", {}).get("parser", {}).get("keys",
                                                        ["file_name", "annotations", "text"])
    img_prefix = os.path.join(root, spec.get("img_prefix") or "")
    lines = []
    font = cv2.FONT_HERSHEY_SIMPLEX
    for i in range(count):
        word = WORDS[i % len(WORDS)]
        scale = float(rng.uniform(0.9, 1.3))
        (_, th), base = cv2.getTextSize(word, font, scale, 2)
        h = th + base + 12
        img = np.full((h, 8 + 40 * len(word), 3), rng.integers(150, 256), np.uint8)
        x, anns = 6, []
        for j, char in enumerate(word):
            (cw, _), _ = cv2.getTextSize(char, font, scale, 2)
            cv2.putText(img, char, (x, 6 + th), font, scale, (20, 20, 20), 2, cv2.LINE_AA)
            x1, y1, x2, y2 = x - 1, 4, x + cw + 1, 8 + th
            box = [x1, y1, x2, y2] if j % 2 == 0 else [x1, y1, x2, y1, x2, y2, x1, y2]
            anns.append(dict(char_text=char, char_box=box))
            x += cw + 2
        name = f"charbox_{i + 1}.jpg"
        _write_image(os.path.join(img_prefix, name), img[:, :x + 6])
        lines.append(json.dumps({keys[0]: name, keys[1]: anns, keys[2]: word}))
    _write_lines(os.path.join(root, spec["ann_file"]), lines, "txt")


def make_kie(spec: Mapping, root: str, rng: np.random.Generator, count: int) -> None:
    """Receipt-like images: 3 to 5 words on a white page, each an 8-number box labelled with a
    class below the model's (26 for WildReceipt's, 4 open-set: key 1 / value 2) and an edge id
    pairing words."""
    num_classes = 4 if spec["type"] == "OpensetKIEDataset" else 26
    lines = []
    for i in range(count):
        h, w = 96, 128
        img = np.full((h, w, 3), 255, np.uint8)
        anns = []
        for j in range(int(rng.integers(3, 6))):
            word = WORDS[int(rng.integers(len(WORDS)))]
            x, y = int(rng.integers(2, 40)), 4 + 18 * j
            crop = cv2.resize(render_word(word, rng), (60, 14))
            img[y:y + 14, x:x + 60] = crop if crop.ndim == 3 else crop[:, :, None]
            anns.append(dict(box=[x, y, x + 59, y, x + 59, y + 13, x, y + 13], text=word,
                             label=int(rng.integers(num_classes)), edge=j // 2))
        name = f"image_files/receipt_{i}.jpeg"
        _write_image(os.path.join(root, spec.get("img_prefix") or "", name), img)
        lines.append(json.dumps(dict(file_name=name, height=h, width=w, annotations=anns)))
    _write_lines(os.path.join(root, spec["ann_file"]), lines, "txt")
    dict_file = os.path.join(root, spec["dict_file"])
    with open(dict_file, "w", encoding="utf-8") as f:
        f.writelines(f"{c}\n" for c in sorted(set("".join(WORDS))))
    if num_classes == len(WILDRECEIPT_CLASSES):  # the configs' model.class_list, beside it
        with open(os.path.join(os.path.dirname(dict_file), "class_list.txt"), "w") as f:
            f.writelines(f"{i} {name}\n" for i, name in enumerate(WILDRECEIPT_CLASSES))


WILDRECEIPT_CLASSES = [
    "Ignore", *(f"{field}_{part}" for field in (
        "Store_name", "Store_addr", "Tel", "Date", "Time", "Prod_item", "Prod_quantity",
        "Prod_price", "Subtotal", "Tax", "Tips", "Total") for part in ("value", "key")),
    "Others"]

NER_TEXTS = [("浙商银行企业信贷部叶老桂博士则从另一个角度对五道门槛进行了解读。",
              [("company", "浙商银行", 0), ("name", "叶老桂", 9)]),
             ("生生不息CSOL生化狂潮让你填弹狂扫", [("game", "CSOL", 4)]),
             ("那不勒斯vs锡耶纳以及桑普vs热那亚之上呢？", [("organization", "那不勒斯", 0),
                                                 ("organization", "锡耶纳", 6)]),
             ("在北京天安门看升旗", [("address", "北京天安门", 1)])]


def make_ner(spec: Mapping, root: str, count: int) -> None:
    """JSON lines of ``text`` and ``label`` (the config's categories only), and the vocabulary
    file of the pipeline's ``NerConvertor``."""
    convertor = next(step["label_convertor"] for step in spec["pipeline"]
                     if "label_convertor" in step)
    lines = []
    for i in range(count):
        text, entities = NER_TEXTS[i % len(NER_TEXTS)]
        label: dict = {}
        for category, entity, start in entities:
            if category in convertor["categories"]:
                label.setdefault(category, {}).setdefault(entity, []).append(
                    [start, start + len(entity) - 1])
        lines.append(json.dumps(dict(text=text, label=label), ensure_ascii=False))
    _write_lines(os.path.join(root, spec["ann_file"]), lines, "txt")
    chars = sorted({c.lower() for text, _ in NER_TEXTS for c in text})
    vocab = ["[PAD]", *(f"[unused{i}]" for i in range(1, 100)), "[UNK]", "[CLS]", "[SEP]",
             "[MASK]", *chars]
    _write_lines(os.path.join(root, convertor["vocab_file"]), vocab, "txt")


def make_data(cfg: Mapping, root: str, images_per_set: int = 2, size: int = 160
              ) -> dict[str, int]:
    """Write every split's data; returns the number of training samples per leaf key path."""
    train_counts: dict[str, int] = {}
    # Mixtures of several training sets (the academic recognition configs) get one image per
    # set: the batch that makes an epoch 2 iterations stays small, and a step of a large
    # recogniser on one thread stays a few seconds. A single set keeps ``images_per_set``.
    n_train = sum(1 for _ in leaves(cfg["data"].get("train"), "data.train"))
    train_images = 1 if n_train >= 2 else images_per_set
    seed = 0
    done: set[tuple[str, str]] = set()
    for split in ("train", "val", "test"):
        for key, spec in leaves(cfg["data"].get(split), f"data.{split}"):
            seed += 1
            rng = np.random.default_rng(seed)
            where = (str(spec.get("ann_file")), str(spec.get("img_prefix")))
            count = train_images if split == "train" else images_per_set
            if split != "train" and spec["type"] in ("IcdarDataset", "TextDetDataset"):
                # one test scene: the detectors' test scales (up to 2240 pixels for PSENet on
                # ICDAR 2015) make each a few seconds of a ResNet-50 on one thread
                count = 1
            if where not in done:
                done.add(where)
                if spec["type"] in ("IcdarDataset", "TextDetDataset"):
                    make_det(spec, root, rng, count, size)
                elif spec["type"] == "OCRDataset":
                    make_recog(spec, root, rng, count)
                elif spec["type"] == "OCRSegDataset":
                    make_charbox(spec, root, rng, count)
                elif spec["type"] in ("KIEDataset", "OpensetKIEDataset"):
                    make_kie(spec, root, rng, count)
                elif spec["type"] == "NerDataset":
                    make_ner(spec, root, count)
                else:
                    raise AssertionError(f"{key}: no tiny-data maker for {spec['type']}")
            if split == "train":
                train_counts[key] = count
    return train_counts


def torchvision_weights(torch_home: str, depths=(18, 50)) -> None:
    """Stand-ins for torchvision's ImageNet ResNets (``torchvision://resnetNN``) in a torch hub
    cache under ``torch_home``: random weights under torchvision's names (``fc`` included) in
    the files mmcv's table names, so the configs' ``init_cfg=dict(type='Pretrained', ...)`` runs
    as it would with the real files, without a download.

    The same weights every time (torchvision's Kaiming normal, fan_out, from a fixed seed, not
    torch's global generator, which the zoo's two threads share): a seeded row is then the
    same run every time. With fresh random stand-ins per run, the odd draw made an untrained
    FCENet propose thousands of polygons and its evaluation run for minutes."""
    import torch

    from ocr_ds.models.common.resnet import ResNet
    from ocr_ds.models.common.torchvision_urls import URLS

    folder = os.path.join(torch_home, "hub", "checkpoints")
    os.makedirs(folder, exist_ok=True)
    for depth in depths:
        rng = np.random.default_rng(depth)
        state = dict(ResNet(depth=depth).state_dict())
        for key, value in state.items():
            if value.dim() == 4:        # convolutions; the norms' constants are already fixed
                std = math.sqrt(2.0 / (value.shape[0] * value.shape[2] * value.shape[3]))
                state[key] = torch.from_numpy(rng.normal(0, std, value.shape).astype("float32"))
        width = 512 * (1 if depth < 50 else 4)
        state["fc.weight"] = torch.zeros(1000, width)
        state["fc.bias"] = torch.zeros(1000)
        torch.save(state, os.path.join(folder, os.path.basename(URLS[f"resnet{depth}"])))
