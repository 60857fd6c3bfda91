"""Pictures of predictions for ``test.py --show-dir`` / ``--show``: one per test image, the size
of the image as it was read, with the predicted polygons (detection) or text (recognition).

The picture is drawn on the image as the dataset's own loading step read it (disk, lmdb or
memcached alike), not rebuilt from the normalised network input: :func:`tap_pipelines` wraps
the first step of every member dataset's pipeline to keep that image, and the last step to hand
it on with the sample (key :data:`RAW_KEY`), only when pictures are wanted.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Callable, Mapping

import cv2
import numpy as np

from ocr_ds.engine.preflight import leaves
from ocr_ds.errors import UserError

RAW_KEY = "_ocr_ds_raw_image"
# mmocr.core.visualize.gen_color: BGR colours, one per box in turn
COLORS = [(101, 67, 254), (154, 157, 252), (173, 205, 249), (123, 151, 138), (187, 200, 178),
          (148, 137, 69), (169, 200, 200), (155, 175, 131), (154, 194, 182), (178, 190, 137),
          (140, 211, 222), (83, 156, 222)]
_STASH = "_ocr_ds_raw_stash"


class _Keep:
    """The loading step, keeping a copy of the image it read and the name to save it under."""

    def __init__(self, step: Callable, prefix: str):
        self.step, self.prefix = step, prefix

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        results = self.step(results)
        if results is not None and isinstance(results.get("img"), np.ndarray):
            name = str(results.get("ori_filename") or results.get("filename") or "")
            img = results["img"]
            if not img.size and results.get("filename"):
                # a KIE dataset without the visual modality reads no image: read it here
                # (MMOCR's test does so too), else a blank page of the annotated size
                img = cv2.imread(str(results["filename"]), cv2.IMREAD_COLOR)
                if img is None:
                    info = results.get("img_info", {})
                    img = np.full((int(info.get("height", 1)), int(info.get("width", 1)), 3),
                                  255, np.uint8)
            ann = results.get("ann_info") or {}
            kie = () if "relations" not in ann else (
                np.asarray(ann["bboxes"], np.float32), list(ann.get("ori_texts") or []))
            results[_STASH] = (img.copy(), self.prefix + name) + kie
        return results


class _HandOn:
    """The last step, handing the kept image on with the sample it produces."""

    def __init__(self, step: Callable):
        self.step = step

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        kept = results.pop(_STASH, None) if isinstance(results, dict) else None
        out = self.step(results)
        if isinstance(out, dict):
            out[RAW_KEY] = kept
        return out


def tap_pipelines(dataset: Any) -> None:
    """Make every sample of ``dataset`` carry ``(image as read, name)`` under :data:`RAW_KEY`
    (None where no image was read, e.g. a placeholder for an unreadable one). Members of a
    concatenation with several members save under ``<member index>/``."""
    members = list(leaves(dataset))
    for i, member in enumerate(members):
        steps = getattr(getattr(member, "pipeline", None), "transforms", None)
        if not steps:
            continue
        steps[0] = _Keep(steps[0], f"{i}/" if len(members) > 1 else "")
        steps[-1] = _HandOn(steps[-1])


def safe_relative(name: str) -> str:
    """``name`` as a path that stays inside the output directory (no root, no ``..``)."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return os.path.join(*parts) if parts else "image.png"


def _bgr(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img.copy()


def draw_boundaries(img: np.ndarray, boundaries: list, score_thr: float) -> np.ndarray:
    """The image with each boundary ``[x1, y1, ..., score]`` scoring at least ``score_thr``
    drawn as a green polygon, its score above it."""
    out = _bgr(img)
    for b in boundaries:
        if len(b) < 7 or float(b[-1]) < score_thr:
            continue
        pts = np.round(np.asarray(b[:-1], np.float64)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [pts], True, (0, 255, 0), 1, cv2.LINE_AA)
        x, y = pts.reshape(-1, 2).min(axis=0)
        cv2.putText(out, f"{float(b[-1]):.2f}", (int(x), max(int(y) - 2, 8)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 0, 255), 1, cv2.LINE_AA)
    return out


def draw_text(img: np.ndarray, text: str) -> np.ndarray:
    """The crop with the predicted text written over its top-left corner on a white box,
    scaled to fit the crop (the picture keeps the crop's size)."""
    out = _bgr(img)
    h, w = out.shape[:2]
    label = text if text else "''"
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 1.0
    (tw, th), base = cv2.getTextSize(label, font, scale, 1)
    scale = max(0.2, min(0.45 * h / max(th + base, 1), (w - 2) / max(tw, 1)))
    (tw, th), base = cv2.getTextSize(label, font, scale, 1)
    cv2.rectangle(out, (0, 0), (min(w - 1, tw + 2), min(h - 1, th + base + 2)), (255, 255, 255), -1)
    cv2.putText(out, label, (1, th + 1), font, scale, (0, 0, 255), 1, cv2.LINE_AA)
    return out


def read_class_list(path: str, key: str = "model.class_list") -> dict[str, str]:
    """MMOCR's ``class_list`` file: a line ``<class index> <class name>`` per class (blank lines
    skipped), as ``{'0': 'Ignore', ...}``."""
    names = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise UserError(f"{key}: cannot read {path!r} ({exc.strerror or exc})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2:
            raise UserError(f"{key}: {path}:{number}: expected '<class index> <class name>' "
                            f"(got {line!r})")
        names[fields[0]] = fields[1]
    return names


def draw_nodes(img: np.ndarray, nodes: Any, boxes: np.ndarray,
               idx_to_cls: Mapping[str, str] | None = None) -> np.ndarray:
    """KIE (MMOCR's ``imshow_node``): the image with its boxes, and beside it on a white page
    twice as wide each box's predicted class (its ``class_list`` name when given) and score, at
    twice the box's x."""
    scores = np.asarray(nodes, np.float64).reshape(len(boxes), -1)
    out = _bgr(img)
    h, w = out.shape[:2]
    page = np.full((h, w * 3, 3), 255, np.uint8)
    page[:, :w] = out
    for (x1, y1, x2, y2), node in zip(np.asarray(boxes).reshape(-1, 4), scores):
        p1, p2 = (int(x1), int(y1)), (int(x2), int(y2))
        cv2.rectangle(page, p1, p2, (255, 255, 0), 1)
        label = str(int(node.argmax()))
        label = f"{(idx_to_cls or {}).get(label, label)}({node.max():.2f})"
        scale = max(0.2, min(1.0, (y2 - y1) / 25))
        cv2.putText(page, label, (w + 2 * p1[0], p2[1]), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return page


def key_value_pairs(nodes: Any, edges: Any, edge_thr: float = 0.5,
                    key_thr: float = 0.5) -> list[tuple[int, int, float]]:
    """MMOCR's ``draw_edge_result`` pairs: boxes i < j linked either way above ``edge_thr``,
    the one scoring higher as key (class 1) than as value (class 2) first, sorted, kept when the
    key's key score reaches ``key_thr``; with the larger of the two link scores."""
    nodes = np.asarray(nodes, np.float64)
    n = len(nodes)
    link = np.asarray(edges, np.float64)[:, -1].reshape(n, n)
    both = np.maximum(link, link.T)
    pairs = sorted((i, j) if nodes[i, 1] > nodes[i, 2] else (j, i)
                   for i, j in zip(*np.nonzero(both > edge_thr)) if i < j)
    return [(int(k), int(v), float(both[k, v])) for k, v in pairs if nodes[k, 1] >= key_thr]


def draw_edges(img: np.ndarray, nodes: Any, edges: Any, boxes: np.ndarray,
               texts: list[str]) -> np.ndarray:
    """Open-set KIE (MMOCR's ``imshow_edge``): the image with its boxes in turning colours, and
    beside it the key -> value pairs (:func:`key_value_pairs`) with their link scores, a column
    two thirds of the image wide, more columns as the pairs need."""
    out = _bgr(img)
    h, w = out.shape[:2]
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(boxes).reshape(-1, 4)):
        cv2.rectangle(out, (int(x1), int(y1)), (int(x2), int(y2)), COLORS[i % len(COLORS)], 1)
    col_w, row_h = max(w // 3 * 2, 60), 30
    rows = max(1, (h - 10) // row_h)
    pairs = key_value_pairs(nodes, edges)
    panel = np.full((h, col_w * max(1, -(-len(pairs) // rows)), 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for n, (k, v, score) in enumerate(pairs):
        x, y = 10 + col_w * (n // rows), 20 + row_h * (n % rows)
        mid = x + col_w // 2
        cv2.putText(panel, texts[k] if k < len(texts) else str(k), (x, y), font, 0.4,
                    (0, 0, 0), 1, cv2.LINE_AA)
        cv2.arrowedLine(panel, (mid - 25, y - 4), (mid - 5, y - 4), (0, 0, 255), 1)
        cv2.putText(panel, f"{score:.2f}", (mid - 25, y - 8), font, 0.3, (0, 255, 0), 1,
                    cv2.LINE_AA)
        cv2.putText(panel, texts[v] if v < len(texts) else str(v), (mid, y), font, 0.4,
                    (0, 0, 255), 1, cv2.LINE_AA)
    return np.concatenate([out, panel], axis=1)


def draw_prediction(img: np.ndarray, pred: Any, score_thr: float,
                    boxes: np.ndarray | None = None, texts: list[str] | None = None,
                    idx_to_cls: Mapping[str, str] | None = None,
                    openset: bool = False) -> np.ndarray:
    """A picture of ``pred``: polygons for ``boundary_result``, text for ``text``, box classes
    for a KIE result (``nodes``, with the image's ``boxes``; key -> value pairs for an open-set
    model's, with the boxes' ``texts``)."""
    if isinstance(pred, dict) and "boundary_result" in pred:
        return draw_boundaries(img, pred["boundary_result"], score_thr)
    if isinstance(pred, dict) and "nodes" in pred and boxes is not None:
        if openset and "edges" in pred:
            return draw_edges(img, pred["nodes"], pred["edges"], boxes, texts or [])
        return draw_nodes(img, pred["nodes"], boxes, idx_to_cls)
    if isinstance(pred, dict) and "text" in pred:
        return draw_text(img, str(pred["text"]))
    return _bgr(img)


def save_picture(show_dir: str, name: str, picture: np.ndarray) -> str:
    """Write ``picture`` to ``show_dir/<name>`` (a relative path; ``.png`` when the name has no
    image extension OpenCV can write); returns the path."""
    path = os.path.join(show_dir, safe_relative(name))
    if not cv2.haveImageWriter(path):
        path += ".png"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, picture):
        raise OSError(f"could not write {path}")
    return path


def display_available() -> str | None:
    """Why ``--show`` cannot open a window here (None when it can)."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and \
            os.name != "nt" and not os.uname().sysname == "Darwin":
        return "no display ($DISPLAY is not set)"
    info = cv2.getBuildInformation()
    gui = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                if line.strip().startswith("GUI:")), "")
    if gui.upper() in ("", "NONE"):
        return "this OpenCV has no GUI support (opencv-python-headless)"
    return None


def show_window(picture: np.ndarray, title: str) -> None:
    """Show ``picture`` until a key is pressed (mmcv's ``imshow`` with ``wait_time=0``)."""
    cv2.imshow(title, picture)
    cv2.waitKey(0)


# -- the models' show_result (MMOCR's drawing) ------------------------------------------------
def _boundaries(img: np.ndarray, boundaries: list, score_thr: float, color: tuple,
                text_color: tuple, thickness: int, show_score: bool) -> None:
    """MMOCR's ``imshow_pred_boundary`` drawing (in place): boundaries scoring above
    ``score_thr``, their points truncated to integers; the score at the first point."""
    for b in boundaries:
        if not b[-1] > score_thr:
            continue
        points = np.array(b[:-1]).astype(np.int32)
        cv2.polylines(img, [points.reshape(-1, 1, 2)], True, color=color, thickness=thickness)
        if show_score:
            cv2.putText(img, f"{b[-1]:.02f}", (int(points[0]), int(points[1]) - 2),
                        cv2.FONT_HERSHEY_COMPLEX, 0.5, text_color)


def _text_label(img: np.ndarray, pred: str, gt: str) -> np.ndarray:
    """MMOCR's ``imshow_text_label`` picture: the predicted text (red) above the image scaled
    to 64 pixels high, the ground truth (blue) below when given."""
    height = 64
    img = cv2.resize(img, (int(1.0 * img.shape[1] / img.shape[0] * height), height))
    h, w = img.shape[:2]
    tiles = [np.ones((h, w, 3), np.uint8) * 255, img]
    cv2.putText(tiles[0], pred, (5, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 255), 2)
    if gt != "":
        tiles.append(np.ones((h, w, 3), np.uint8) * 255)
        cv2.putText(tiles[2], gt, (5, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 0, 0), 2)
    tiles = [cv2.cvtColor(t, cv2.COLOR_GRAY2BGR) if t.ndim == 2 else t for t in tiles]
    out = np.zeros((sum(t.shape[0] for t in tiles), max(t.shape[1] for t in tiles), 3), np.uint8)
    y = 0
    for t in tiles:
        out[y:y + t.shape[0], :t.shape[1]] = t
        y += t.shape[0]
    return out


_COLORS = dict(green=(0, 255, 0), blue=(255, 0, 0), red=(0, 0, 255), cyan=(255, 255, 0),
               yellow=(0, 255, 255), magenta=(255, 0, 255), white=(255, 255, 255),
               black=(0, 0, 0))


def show_result(img: str | np.ndarray, result: Mapping[str, Any], score_thr: float = 0.5,
                bbox_color: str | tuple = "green", text_color: str | tuple = "green", thickness: int = 1, font_scale: float = 0.5,
                win_name: str = "", show: bool = False, wait_time: int = 0,
                out_file: str | None = None, gt_label: str = "", boxes: Any = None,
                show_score: bool = False, idx_to_cls: Mapping[str, str] | None = None,
                openset: bool = False, **kwargs: Any) -> np.ndarray:
    """``result`` drawn on ``img`` (a file name or an array) as MMOCR's models'
    ``show_result`` draw it: a detector's boundaries scoring above ``score_thr``, a
    recogniser's text above the image scaled to 64 pixels high and ``gt_label`` below;
    written to ``out_file`` (folders made), else shown in a window with ``show``; returned.
    A KIE result (``nodes``, given the image's ``boxes``) is drawn as ``test.py --show-dir``
    draws it (MMOCR's needs a font it downloads): classes named by ``idx_to_cls``, an
    ``openset`` model's key -> value pairs. ``show_score``: the score above each
    boundary (a detector's ``show_score``). The models' ``show_result`` call this
    (:class:`~ocr_ds.models.common.base.ShowResultMixin`)."""
    if isinstance(img, str):
        path, img = img, cv2.imread(img)
        if img is None:
            raise UserError(f"{path}: not a readable image")
    img = np.array(img)
    show = show and out_file is None
    if "boundary_result" in result:
        if not result["boundary_result"]:
            warnings.warn(f"0 text found in {out_file}")
            return img
        color, text = (_COLORS[c] if isinstance(c, str) else tuple(c)
                       for c in (bbox_color, text_color))
        _boundaries(img, result["boundary_result"], score_thr, color, text, thickness,
                    show_score)
    elif "text" in result:
        img = _text_label(img, str(result["text"]), gt_label)
    else:
        texts = [m.get("ori_texts") for m in result.get("img_metas") or [{}]][0]
        img = draw_prediction(img, result, score_thr, boxes=boxes, texts=texts or [],
                              idx_to_cls=idx_to_cls, openset=openset)
    if show:
        show_window(img, win_name)
    if out_file is not None:
        os.makedirs(os.path.dirname(os.path.abspath(out_file)), exist_ok=True)
        cv2.imwrite(out_file, img)
    return img
