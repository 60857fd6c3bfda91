"""End-to-end OCR: detect text in images, read each box, optionally merge words into lines.

::

    python -m ocr_ds.tools.ocr IMG [IMG ...] --det-config DET.py --det-ckpt DET.pth \\
        --recog-config REC.py --recog-ckpt REC.pth [--output DIR] [--export DIR] [--details]

MMOCR 0.6.3's ``mmocr/utils/ocr.py`` (its class :class:`MMOCR` and ``readtext``), flag for
flag, result for result: per image ``{'filename': stem, 'text': [...]}``, with ``--details``
``{'filename', 'result': [{'box', 'box_score', 'text', 'text_score'}, ...]}``. A checkpoint
is an exported ``.pth``, a plain state dict, one of our checkpoint directories, an MMOCR
checkpoint or an http(s) URL (kept in torch hub's cache). The config is ``--det-config``
(``--recog-config``), else the one saved in the checkpoint, else the model name's file under
``--config-dir`` (``--det DB_r18``: MMOCR's table of names, with its published checkpoints).
``--det None`` or ``--recog None`` runs the other model alone.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ocr_ds.errors import CliParser, UserError, add_unsafe_pickle_flag, run_cli
from ocr_ds.tools import _ocr_common as oc
from ocr_ds.tools._infer_common import read_images, torch_device
from ocr_ds.tools._ocr_infer import Runner, recog_result
from ocr_ds.tools._ocr_models import (KIE_MODELS, TEXTDET_MODELS,  # noqa: F401 (re-export)
                                      TEXTRECOG_MODELS)


def dump(obj: Any, path: str) -> None:
    """``mmcv.dump(obj, path, indent=4)`` for JSON, written atomically."""
    from ocr_ds.atomic import atomic_write
    from ocr_ds.engine.evaluate import to_plain

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write(path, json.dumps(to_plain(obj), indent=4))


def _show(picture: np.ndarray, path: str | None, imshow: bool) -> None:
    """Write ``picture`` to ``path`` (atomically) and/or show it in a window."""
    import cv2

    from ocr_ds.atomic import atomic_write
    from ocr_ds.engine.show import show_window

    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        ok, data = cv2.imencode(os.path.splitext(path)[1] or ".png", picture)
        if not ok:
            raise UserError(f"--output: OpenCV cannot write {path}")
        atomic_write(path, data.tobytes())
    if imshow:
        show_window(picture, "inference results")


class MMOCR:
    """``mmocr.utils.ocr.MMOCR``: build the models once, then :meth:`readtext` images."""

    def __init__(self, det: str | None = "PANet_IC15", det_config: str = "", det_ckpt: str = "",
                 recog: str | None = "SEG", recog_config: str = "", recog_ckpt: str = "",
                 kie: str = "", kie_config: str = "", kie_ckpt: str = "",
                 config_dir: str = os.path.join(str(Path.cwd()), "configs/"),
                 device: Any = None, allow_unsafe_pickle: bool = False, **kwargs: Any):
        det = None if det == "None" else det
        recog = None if recog == "None" else recog
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch_device(str(device))
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise UserError(f"--device: {device} is not available here (torch sees no CUDA "
                            "device); expected cpu")
        self.detect_model = self.recog_model = None
        if det:
            self.detect_model = Runner("textdet", det, det_config, det_ckpt, config_dir,
                                       self.device, allow_unsafe_pickle)
        if recog:
            self.recog_model = Runner("textrecog", recog, recog_config, recog_ckpt,
                                      config_dir, self.device, allow_unsafe_pickle)
        if not (self.detect_model or self.recog_model):
            raise UserError("--det, --recog: expected at least one model (both are None)")
        self.kie_model = None
        if kie or kie_config or kie_ckpt:
            if not (self.detect_model and self.recog_model):
                raise UserError("--kie: key information extraction runs on detection and "
                                "recognition results; expected --det and --recog models too")
            self.kie_model = Runner("kie", kie or None, kie_config, kie_ckpt, config_dir,
                                    self.device, allow_unsafe_pickle)

    def readtext(self, img: Any, output: str | None = None, details: bool = False,
                 export: str | None = None, export_format: str = "json",
                 batch_mode: bool = False, recog_batch_size: int = 0, det_batch_size: int = 0,
                 single_batch_size: int = 0, imshow: bool = False, print_result: bool = False,
                 merge: bool = False, merge_xdist: float = 20, **kwargs: Any) -> list[dict]:
        """The results of every image (a path, a folder, an array, or a list of them), written
        to ``output`` (pictures) and ``export`` (JSON) folders as MMOCR names them."""
        from ocr_ds.engine.show import display_available, draw_nodes, draw_prediction

        if export_format != "json":
            raise UserError(f"--export-format: expected 'json' (got {export_format!r})")
        for key, value in (("--recog-batch-size", recog_batch_size),
                           ("--det-batch-size", det_batch_size),
                           ("--single-batch-size", single_batch_size)):
            if not isinstance(value, int) or value < 0:
                raise UserError(f"{key}: expected an integer >= 0 (got {value!r})")
        if imshow and display_available():
            raise UserError(f"--imshow: {display_available()}")
        names, arrays = _inputs(img)
        outputs = _paths(output, names, "png", "--output") if output else [None] * len(names)
        exports = (_paths(export, names, export_format, "--export") if export
                   else [None] * len(names))
        if merge and not (self.detect_model and self.recog_model):
            warnings.warn("Box merging will not work if the script is not running in "
                          "detection + recognition mode.", UserWarning)

        results = []
        if self.detect_model and self.recog_model:
            dets = self.detect_model.infer(arrays, batch_mode, det_batch_size)

            def recognise(crops: list[np.ndarray]) -> list[dict]:
                return self.recog_model.infer(crops, batch_mode, recog_batch_size)

            for name, arr, det, out, exp in zip(names, arrays, dets, outputs, exports):
                res = oc.image_result(name, arr, det["boundary_result"], recognise, merge,
                                      merge_xdist)
                picture = None
                if self.kie_model and res["result"]:
                    labels, nodes, boxes = self.kie_model.kie(arr, res["result"])
                    for word, (label, score) in zip(res["result"], labels):
                        word["label"], word["label_score"] = label, score
                    picture = draw_nodes(arr, nodes, boxes, self.kie_model.classes) \
                        if out or imshow else None
                if out or imshow:
                    if picture is None:
                        picture = oc.det_recog_show_result(arr.copy(), res)
                    _show(picture, out, imshow)
                if not details:
                    res = dict(filename=res["filename"], text=[x["text"] for x in res["result"]])
                results.append(self._emit(res, exp, print_result))
            return results
        model = self.recog_model or self.detect_model
        preds = model.infer(arrays, batch_mode, single_batch_size)
        for arr, pred, out, exp in zip(arrays, preds, outputs, exports):
            # a detector's result names its file: None for an array (LoadImageFromNdarray)
            res = recog_result(pred) if model is self.recog_model else dict(
                boundary_result=pred["boundary_result"], filename=None)
            if out or imshow:
                _show(draw_prediction(arr, res, 0.0), out, imshow)
            results.append(self._emit(res, exp, print_result))
        return results

    @staticmethod
    def _emit(res: dict, export: str | None, print_result: bool) -> dict:
        if export:
            dump(res, export)
        if print_result:
            print(res, end="\n\n", flush=True)
        return res


def _inputs(img: Any) -> tuple[list[str], list[np.ndarray]]:
    """Names (file stems, or indices for arrays) and BGR arrays of the input images; a folder
    stands for its files, in name order."""
    items = list(img) if isinstance(img, (list, tuple)) else [img]
    if not items:
        raise UserError("img: expected an image file, a folder or an array (got none)")
    paths: list[str] = []
    for item in items:
        if isinstance(item, np.ndarray):
            if item.dtype != np.uint8 or item.ndim != 3 or item.shape[2] not in (1, 3):
                raise UserError(f"img: expected BGR images as uint8 arrays of shape (H, W, 3) "
                                f"(got {item.dtype} {item.shape})")
            continue
        if not isinstance(item, (str, os.PathLike)):
            raise UserError(f"img: expected image paths or arrays (got {type(item).__name__})")
        if os.path.isdir(item):
            found = sorted(str(p) for p in Path(item).glob("*") if p.is_file())
            if not found:
                raise UserError(f"img: folder {item} holds no files")
            paths += found
        else:
            paths.append(os.fspath(item))
    if paths and any(isinstance(x, np.ndarray) for x in items):
        raise UserError("img: expected image paths or arrays, not both")
    if paths:
        names = [Path(p).stem for p in paths]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise UserError(f"img: several images named {twice[0]!r} (results are named "
                            "after the file name without its extension)")
        return names, read_images(paths)
    return [str(i) for i in range(len(items))], list(items)


def _paths(folder: str, names: Sequence[str], ext: str, key: str) -> list[str]:
    """``folder/out_<name>.<ext>`` for each image; ``folder`` must not be a file."""
    from ocr_ds.outputs import check_dir_creatable

    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UserError(f"{key}: {folder} cannot be an existing file (expected a folder)")
    check_dir_creatable(folder, key)
    return [os.path.join(folder, f"out_{n}.{ext}") for n in names]


def parse_args(argv: Sequence[str] | None = None) -> Any:
    p = CliParser(prog="python -m ocr_ds.tools.ocr", description=__doc__.splitlines()[0])
    p.add_argument("img", nargs="+", help="image files or folders")
    p.add_argument("--output", default="", help="folder for the pictures (out_<name>.png)")
    p.add_argument("--det", default="PANet_IC15",
                   help="text detection model name, or None (PANet_IC15)")
    p.add_argument("--det-config", default="", help="detection config (overrides --det's)")
    p.add_argument("--det-ckpt", default="", help="detection checkpoint (overrides --det's)")
    p.add_argument("--recog", default="SEG",
                   help="text recognition model name, or None (SEG)")
    p.add_argument("--recog-config", default="", help="recognition config")
    p.add_argument("--recog-ckpt", default="", help="recognition checkpoint")
    p.add_argument("--kie", default="", help="key information extraction model name (SDMGR)")
    p.add_argument("--kie-config", default="", help="KIE config (overrides --kie's)")
    p.add_argument("--kie-ckpt", default="", help="KIE checkpoint (overrides --kie's)")
    p.add_argument("--config-dir", default=os.path.join(str(Path.cwd()), "configs/"),
                   help="where the model names' configs are (./configs/)")
    p.add_argument("--batch-mode", action="store_true", help="batch the images and crops")
    p.add_argument("--recog-batch-size", type=int, default=0,
                   help="crops per recognition batch in batch mode (0: all of an image's)")
    p.add_argument("--det-batch-size", type=int, default=0,
                   help="images per detection batch in batch mode (0: all)")
    p.add_argument("--single-batch-size", type=int, default=0,
                   help="images per batch when one model runs alone (0: all)")
    p.add_argument("--device", default=None, help="torch device (cuda if available, else cpu)")
    p.add_argument("--export", default="", help="folder for the results (out_<name>.json)")
    p.add_argument("--export-format", default="json", help="format of --export files (json)")
    p.add_argument("--details", action="store_true",
                   help="boxes and scores in the results, not only the texts")
    p.add_argument("--imshow", action="store_true", help="show each picture in a window")
    p.add_argument("--print-result", action="store_true", help="print each image's result")
    p.add_argument("--merge", action="store_true", help="merge neighbouring boxes into lines")
    p.add_argument("--merge-xdist", type=float, default=20,
                   help="largest x gap between boxes merged into one line (20)")
    add_unsafe_pickle_flag(p, "checkpoints")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    for item in args.img:  # before any model is built or downloaded
        if not os.path.exists(item):
            raise UserError(f"img: {item}: no such image file or folder")
    ocr = MMOCR(**vars(args))
    ocr.readtext(**vars(args))
    return 0


if __name__ == "__main__":
    run_cli(main)
