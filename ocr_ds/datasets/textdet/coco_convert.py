"""The shared half of MMOCR 0.6.3's dataset converters (``tools/data/text{det,recog}``).

Image lists (MMOCR's glob order), polygon geometry (shapely's area and bounds, as MMOCR's
converters compute them; MMOCR's ``crop_img`` of word images), the per-image ``img_info``
dict, the COCO assembly of ``mmocr.utils.convert_annotations`` and its JSON (``mmcv.dump``:
``json.dump`` with the default separators and ``ensure_ascii``, numpy values as lists /
numbers), written atomically.
The dataset-specific readers are ``icdar_txt``, ``ctw1500_gt`` and ``totaltext_gt``.
"""
from __future__ import annotations

import glob
import json
import multiprocessing
import os
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ocr_ds.errors import UserError

# the suffixes, and their order, of MMOCR's collect_files (other images are not converted)
SUFFIXES = (".png", ".PNG", ".jpg", ".JPG", ".jpeg", ".JPEG")


def glob_images(img_dir: str) -> list[str]:
    """The images of ``img_dir`` in MMOCR's order: by suffix (``SUFFIXES``), then as ``glob``
    lists them (directory order); the directory name is taken literally (``glob.escape``)."""
    pattern = os.path.join(glob.escape(img_dir), "*")
    return [path for suffix in SUFFIXES for path in glob.glob(pattern + suffix)]


def pair_by_name(img_dir: str, gt_dir: str,
                 gt_name: Callable[[str], str]) -> list[tuple[str, str]]:
    """``(image, GT_DIR/gt_name(image stem))`` pairs in MMOCR's image order; a missing
    annotation file is an error (MMOCR: a traceback when it reaches that image)."""
    files = []
    for img_file in glob_images(img_dir):
        gt_file = os.path.join(gt_dir, gt_name(os.path.splitext(os.path.basename(img_file))[0]))
        if not os.path.isfile(gt_file):
            raise UserError(f"{gt_file}: missing annotation file of image {img_file}")
        files.append((img_file, gt_file))
    return loaded(files, img_dir)


def loaded(files: list[tuple[str, str]], img_dir: str) -> list[tuple[str, str]]:
    """``files``, reported as MMOCR reports them; none is an error."""
    if not files:
        raise UserError(f"{img_dir}: no images (.png, .jpg or .jpeg, either case)")
    print(f"Loaded {len(files)} images from {img_dir}")
    return files


def require_dirs(root: str, splits: Iterable[str]) -> None:
    """``ROOT/imgs/SPLIT`` must exist for every split (MMOCR asserts it before converting)."""
    for split in splits:
        path = os.path.join(root, "imgs", split)
        if not os.path.isdir(path):
            raise UserError(f"{path}: image directory of split {split!r} not found "
                            f"(expected ROOT/imgs/<split> and ROOT/annotations/<split>)")


def text_lines(text: str) -> list[str]:
    """The lines of a text file as Python's file iteration gives them (universal newlines:
    ``\\n``, ``\\r\\n``, ``\\r``; not ``str.splitlines``' other separators), without newlines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def polygon_bounds(xy: Sequence[float], where: str) -> tuple[Any, tuple[float, ...]]:
    """shapely's ``Polygon`` of a flat ``[x1, y1, x2, y2, ...]`` and its ``bounds``
    ``(min_x, min_y, max_x, max_y)``, as MMOCR's converters build them."""
    from shapely.geometry import Polygon

    if len(xy) % 2 or len(xy) < 6:
        raise UserError(f"{where}: expected a polygon of 3 or more x,y points "
                        f"(got {len(xy)} coordinates)")
    polygon = Polygon(np.asarray(xy).reshape(-1, 2))
    return polygon, polygon.bounds


def polygon_geometry(xy: Sequence[float], where: str) -> tuple[float, list[float]]:
    """``(area, [x, y, w, h])`` of a flat polygon: shapely's ``area`` and ``bounds``."""
    polygon, (min_x, min_y, max_x, max_y) = polygon_bounds(xy, where)
    return polygon.area, [min_x, min_y, max_x - min_x, max_y - min_y]


def annotation(xy: Any, iscrowd: int, where: str, text: Any = None, with_text: bool = False,
               bbox: list | None = None) -> dict[str, Any]:
    """One ``anno_info`` entry, keys in MMOCR's order (``text`` only where the dataset's
    converter writes it; ``bbox`` from the polygon unless given)."""
    area, box = polygon_geometry(xy, where)
    anno = dict(iscrowd=iscrowd, category_id=1, bbox=box if bbox is None else bbox, area=area)
    if with_text:
        anno["text"] = text
    anno["segmentation"] = [xy]
    return anno


def read_image_size(path: str, color: bool = False) -> tuple[int, int]:
    """``(height, width)`` of an image read as ``mmcv.imread(path, 'unchanged')`` reads it
    (EXIF orientation ignored); ``color``: as ``mmcv.imread(path)`` (EXIF orientation applied)."""
    import cv2

    from ocr_ds.tools._infer_common import read_images

    img = read_images([path], cv2.IMREAD_COLOR if color else cv2.IMREAD_UNCHANGED)[0]
    return int(img.shape[0]), int(img.shape[1])


def image_info(img_file: str, gt_file: str, bare: bool = False) -> dict[str, Any]:
    """``file_name`` / ``segm_file`` relative to ``imgs`` / ``annotations`` (``SPLIT/NAME``), or
    with ``bare`` the files' names alone (FUNSD, SROIE, NAF, ... as MMOCR writes them)."""
    split = "" if bare else os.path.basename(os.path.dirname(img_file))
    height, width = read_image_size(img_file)
    return dict(file_name=os.path.join(split, os.path.basename(img_file)), height=height,
                width=width, segm_file=os.path.join(split, os.path.basename(gt_file)))


def map_images(func: Callable[[Any], Any], items: Sequence[Any], nproc: int) -> list[Any]:
    """``[func(item) ...]`` in order; ``nproc > 1``: in that many processes (MMOCR's
    ``track_parallel_progress`` keeps the order too)."""
    if nproc > 1 and len(items) > 1:
        with multiprocessing.get_context("fork").Pool(min(nproc, len(items))) as pool:
            return pool.map(func, items)
    return [func(item) for item in items]


def to_coco(image_infos: list[dict[str, Any]]) -> dict[str, Any]:
    """``mmocr.utils.convert_annotations``: ids in order, ``annotations`` left out when empty."""
    out: dict[str, Any] = dict(images=[], categories=[dict(id=1, name="text")], annotations=[])
    for img_id, info in enumerate(image_infos):
        info = dict(info)
        annos = info.pop("anno_info")
        info["id"] = img_id
        out["images"].append(info)
        for anno in annos:
            out["annotations"].append(dict(anno, image_id=img_id, id=len(out["annotations"])))
    if not out["annotations"]:
        del out["annotations"]
    return out


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def coco_json(coco: dict[str, Any]) -> str:
    """The text ``mmcv.dump(coco, 'x.json')`` writes."""
    return json.dumps(coco, default=_json_default)


def write_outputs(outputs: dict[str, str | bytes]) -> None:
    """Write every ``{path: content}`` atomically, after all of them were computed."""
    from ocr_ds.atomic import atomic_write

    for path in outputs:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    for path, content in outputs.items():
        atomic_write(path, content)


def box_annotation(x: int, y: int, w: int, h: int, iscrowd: int = 0) -> dict[str, Any]:
    """An axis-aligned box's ``anno_info`` entry as MMOCR's IC11 / IC13 / FUNSD converters
    write it: integer ``[x, y, w, h]``, ``area = w * h``, its four corners as the polygon."""
    return dict(iscrowd=iscrowd, category_id=1, bbox=[x, y, w, h], area=w * h,
                segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]])


def read_json_file(path: str, what: str) -> Any:
    """A UTF-8 JSON file (``mmcv.load``); missing or malformed: a one-line error."""
    from ocr_ds.fileio import read_text

    if not os.path.isfile(path):
        raise UserError(f"{path}: {what} not found")
    try:
        return json.loads(read_text(path, what))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not a valid JSON {what} ({exc})") from None


def points_box_annotation(xy: list, iscrowd: int = 0, clip: bool = True) -> dict[str, Any]:
    """MMOCR's SROIE / NAF / VinText entry: the bounding box of the flat polygon ``xy`` (its
    top-left corner clipped at 0 unless ``clip`` is off), ``area = w * h``, ``xy`` itself."""
    x, y = min(xy[0::2]), min(xy[1::2])
    if clip:
        x, y = max(0, x), max(0, y)
    w, h = max(xy[0::2]) - x, max(xy[1::2]) - y
    return dict(iscrowd=iscrowd, category_id=1, bbox=[x, y, w, h], area=w * h,
                segmentation=[list(xy)])


def read_xml_root(path: str) -> Any:
    """The root element of an XML annotation file; malformed: a one-line error."""
    import xml.etree.ElementTree as ET

    try:
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise UserError(f"{path}: not a valid XML file ({exc})") from None


def pair_listed(img_dir: str, gt_dir: str, gt_name: Callable[[str], str],
                by_name: bool = False) -> list[tuple[str, str]]:
    """``(image, GT_DIR/gt_name(image file name))`` of every file of ``img_dir``, in directory
    order (``os.listdir``, as most of MMOCR's converters list them) or by name; a missing
    annotation file is an error."""
    files = []
    names = os.listdir(img_dir)
    for name in sorted(names) if by_name else names:
        gt_file = os.path.join(gt_dir, gt_name(name))
        if not os.path.isfile(gt_file):
            raise UserError(f"{gt_file}: missing annotation file of image "
                            f"{os.path.join(img_dir, name)}")
        files.append((os.path.join(img_dir, name), gt_file))
    return loaded(files, img_dir)
