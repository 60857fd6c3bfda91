"""``DRRGTargets``: DRRG's training maps and text components, as MMOCR 0.6.3 draws them.

The polygon geometry is TextSnake's (:mod:`.textsnake`: head/tail edges, sidelines resampled
every ``resample_step`` pixels, their midpoints the center line). The center line is shortened
at each end by half a component width; between consecutive center points the shrunk
quadrilateral is filled into the center mask, the direction's sin and cos into their maps,
and each of its pixels' distances to the top and bottom sidelines into the height maps.

Text components are rectangles centred on the center-line pixels (heights from the maps,
width ``comp_w_h_ratio`` x height within ``[min_width, max_width]``), merged by lanms-neo's
locality-aware NMS, labelled by their center region, and jittered; random background
components are added up to ``num_min_comps``. ``gt_comp_attribs`` is a ``(num_max_comps, 8)``
float32 array: count, x, y, height, width, cos, sin, label (0: background), zero-padded.
The jitter and the random components draw from numpy's global generator, in MMOCR's order.
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.linalg import norm

from ocr_ds.datasets.pipelines.targets.textsnake import TextSnakeTargets
from ocr_ds.datasets.pipelines.textdet_targets import _finish, effective_mask
from ocr_ds.models.textdet.drrg.proposals import comp_boxes, la_nms


class DRRGTargets(TextSnakeTargets):
    """Arguments and defaults as MMOCR 0.6.3's ``DRRGTargets`` (``orientation_thr=2.0``,
    ``resample_step=8.0``, ``num_min_comps=9``, ``num_max_comps=600``, ``min_width=8.0``,
    ``max_width=24.0``, ``center_region_shrink_ratio=0.3``, ``comp_shrink_ratio=1.0``,
    ``comp_w_h_ratio=0.3``, ``text_comp_nms_thr=0.25``, ``min_rand_half_height=8.0``,
    ``max_rand_half_height=24.0``, ``jitter_level=0.2``)."""

    def __init__(self, orientation_thr: float = 2.0, resample_step: float = 8.0,
                 num_min_comps: int = 9, num_max_comps: int = 600, min_width: float = 8.0,
                 max_width: float = 24.0, center_region_shrink_ratio: float = 0.3,
                 comp_shrink_ratio: float = 1.0, comp_w_h_ratio: float = 0.3,
                 text_comp_nms_thr: float = 0.25, min_rand_half_height: float = 8.0,
                 max_rand_half_height: float = 24.0, jitter_level: float = 0.2):
        super().__init__(orientation_thr=orientation_thr, resample_step=float(resample_step),
                         center_region_shrink_ratio=center_region_shrink_ratio)
        self.num_max_comps = num_max_comps
        self.num_min_comps = num_min_comps
        self.min_width = min_width
        self.max_width = max_width
        self.comp_shrink_ratio = comp_shrink_ratio
        self.comp_w_h_ratio = comp_w_h_ratio
        self.text_comp_nms_thr = text_comp_nms_thr
        self.min_rand_half_height = min_rand_half_height
        self.max_rand_half_height = max_rand_half_height
        self.jitter_level = float(jitter_level)

    @staticmethod
    def dist_point2line(point: np.ndarray, line: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Distance of each ``(n, 2)`` point to the line through ``line``'s two points (the
        2-D cross product MMOCR takes with ``np.cross``, in float64; numpy 1's float64 sum of
        a float32 norm and 1e-8)."""
        point1, point2 = line
        a = (point2 - point1).astype(np.float64)
        b = point - point1
        return np.abs(a[0] * b[..., 1] - a[1] * b[..., 0]) / (float(norm(point2 - point1))
                                                              + 1e-8)

    def draw_center_region_maps(self, top_line: np.ndarray, bot_line: np.ndarray,
                                center_line: np.ndarray, center_region_mask: np.ndarray,
                                top_height_map: np.ndarray, bot_height_map: np.ndarray,
                                sin_map: np.ndarray, cos_map: np.ndarray,
                                region_shrink_ratio: float) -> None:
        h, w = center_region_mask.shape
        for i in range(0, len(center_line) - 1):
            top_mid = (top_line[i] + top_line[i + 1]) / 2
            bot_mid = (bot_line[i] + bot_line[i + 1]) / 2
            box = self.center_box(center_line, top_line, bot_line, i)
            cv2.fillPoly(center_region_mask, [box], color=1)
            cv2.fillPoly(sin_map, [box], color=self.vector_sin(top_mid - bot_mid))
            cv2.fillPoly(cos_map, [box], color=self.vector_cos(top_mid - bot_mid))
            box[:, 0] = np.clip(box[:, 0], 0, w - 1)
            box[:, 1] = np.clip(box[:, 1], 0, h - 1)
            min_coord = np.min(box, axis=0).astype(np.int32)
            max_coord = np.max(box, axis=0).astype(np.int32)
            box_sz = max_coord - min_coord + 1
            box_mask = np.zeros((box_sz[1], box_sz[0]), dtype=np.uint8)
            cv2.fillPoly(box_mask, [box - min_coord], color=1)
            inds = np.argwhere(box_mask > 0) + (min_coord[1], min_coord[0])
            inds_xy = np.fliplr(inds)
            top_height_map[(inds[:, 0], inds[:, 1])] = self.dist_point2line(
                inds_xy, (top_line[i], top_line[i + 1]))
            bot_height_map[(inds[:, 0], inds[:, 1])] = self.dist_point2line(
                inds_xy, (bot_line[i], bot_line[i + 1]))

    def generate_center_mask_attrib_maps(self, img_size: tuple[int, int], text_polys: list
                                         ) -> tuple:
        h, w = img_size
        center_lines = []
        center_region_mask = np.zeros((h, w), np.uint8)
        maps = [np.zeros((h, w), dtype=np.float32) for _ in range(4)]   # top, bot, sin, cos
        for poly in text_polys:
            _, _, top_line, bot_line = self.reorder_poly_edge(self.points_of(poly))
            top, bot = self.resample_sidelines(top_line, bot_line, self.resample_step)
            bot = bot[::-1]
            center = (top + bot) / 2
            # run left to right (top to bottom for steep lines: slope over 2)
            direction = center[-1] - center[0]
            if (direction[1] < 0) if self.vector_slope(direction) > 2 else (direction[0] < 0):
                center, top, bot = center[::-1], top[::-1], bot[::-1]
            # shorten by half a component width at each end (of the unresampled sidelines)
            head = np.clip(float(norm(top_line[0] - bot_line[0])) * self.comp_w_h_ratio,
                           self.min_width, self.max_width) / 2
            tail = np.clip(float(norm(top_line[-1] - bot_line[-1])) * self.comp_w_h_ratio,
                           self.min_width, self.max_width) / 2
            num_head, num_tail = int(head // self.resample_step), int(tail // self.resample_step)
            if len(center) > num_head + num_tail + 2:
                end = len(center) - num_tail
                center, top, bot = center[num_head:end], top[num_head:end], bot[num_head:end]
            center_lines.append(center.astype(np.int32))
            self.draw_center_region_maps(top, bot, center, center_region_mask, *maps,
                                         self.center_region_shrink_ratio)
        return (center_lines, center_region_mask, *maps)

    def generate_rand_comp_attribs(self, num_rand_comps: int, center_sample_mask: np.ndarray
                                   ) -> np.ndarray:
        """Random background components (label 0) centred in ``center_sample_mask``, away
        from the border, so an image has at least ``num_min_comps``."""
        h, w = center_sample_mask.shape
        max_half, min_half = self.max_rand_half_height, self.min_rand_half_height

        def margin_of(max_half: float) -> int:
            max_width = np.clip(max_half * 2 * self.comp_w_h_ratio, self.min_width,
                                self.max_width)
            return int(np.sqrt(max_half**2 + (max_width / 2)**2)) + 1

        margin = margin_of(max_half)
        if 2 * margin + 1 > min(h, w):
            if min(h, w) <= np.sqrt(2) * (self.min_width + 1):
                raise ValueError(f"DRRGTargets: image {h}x{w} too small for a text component "
                                 f"of min_width {self.min_width}")
            max_half = max(min(h, w) / 4, self.min_width / 2 + 1)
            min_half = max(max_half / 4, self.min_width / 2)
            margin = margin_of(max_half)
        inner = np.zeros_like(center_sample_mask)
        inner[margin:h - margin, margin:w - margin] = \
            center_sample_mask[margin:h - margin, margin:w - margin]
        kernel_size = int(np.clip(max_half, 7, 21))
        inner = cv2.erode(inner, np.ones((kernel_size, kernel_size), np.uint8))
        candidates = np.argwhere(inner > 0)
        centers = candidates[np.random.choice(len(candidates), num_rand_comps)]
        top = np.random.randint(min_half, max_half, size=(len(centers), 1))
        bot = np.random.randint(min_half, max_half, size=(len(centers), 1))
        cos = 2 * np.random.random(size=(len(centers), 1)) - 1
        sin = 2 * np.random.random(size=(len(centers), 1)) - 1
        scale = np.sqrt(1.0 / (cos**2 + sin**2 + 1e-8))
        height = top + bot
        width = np.clip(height * self.comp_w_h_ratio, self.min_width, self.max_width)
        return np.hstack([centers[:, ::-1], height, width, cos * scale, sin * scale,
                          np.zeros_like(sin)]).astype(np.float32)

    def jitter_comp_attribs(self, comp_attribs: np.ndarray, jitter_level: float
                            ) -> np.ndarray:
        """Random shifts of position (by the extent along each axis), size and direction;
        the six draws in MMOCR's order, each attribute updated in place after its draw."""
        attribs = comp_attribs.copy()
        x, y, h, w, cos, sin = (attribs[:, i:i + 1] for i in range(6))
        n = len(attribs)
        x += (np.random.random(size=(n, 1)) - 0.5) * (h * np.abs(cos) + w * np.abs(sin)) \
            * jitter_level
        y += (np.random.random(size=(n, 1)) - 0.5) * (h * np.abs(sin) + w * np.abs(cos)) \
            * jitter_level
        h += (np.random.random(size=(n, 1)) - 0.5) * h * jitter_level
        w += (np.random.random(size=(n, 1)) - 0.5) * w * jitter_level
        cos += (np.random.random(size=(n, 1)) - 0.5) * 2 * jitter_level
        sin += (np.random.random(size=(n, 1)) - 0.5) * 2 * jitter_level
        scale = np.sqrt(1.0 / (cos**2 + sin**2 + 1e-8))
        return np.hstack([x, y, h, w, cos * scale, sin * scale, attribs[:, 6:7]])

    def generate_comp_attribs(self, center_lines: list, text_mask: np.ndarray,
                              center_region_mask: np.ndarray, top_height_map: np.ndarray,
                              bot_height_map: np.ndarray, sin_map: np.ndarray,
                              cos_map: np.ndarray) -> np.ndarray:
        """The padded ``(num_max_comps, 8)`` component attributes."""
        lines_mask = np.zeros_like(center_region_mask)
        cv2.polylines(lines_mask, center_lines, 0, 1, 1)
        centers = np.argwhere(lines_mask * center_region_mask > 0)
        y, x = centers[:, 0], centers[:, 1]
        boxes = comp_boxes(centers, top_height_map[y, x].reshape((-1, 1)) *
                           self.comp_shrink_ratio,
                           bot_height_map[y, x].reshape((-1, 1)) * self.comp_shrink_ratio,
                           sin_map[y, x].reshape((-1, 1)), cos_map[y, x].reshape((-1, 1)),
                           self.comp_w_h_ratio, self.min_width, self.max_width)
        text_comps = la_nms(np.hstack([boxes, np.ones((len(boxes), 1), dtype=np.float32)]),
                            self.text_comp_nms_thr)
        if text_comps.shape[0] >= 1:
            img_h, img_w = center_region_mask.shape
            text_comps[:, 0:8:2] = np.clip(text_comps[:, 0:8:2], 0, img_w - 1)
            text_comps[:, 1:8:2] = np.clip(text_comps[:, 1:8:2], 0, img_h - 1)
            centers = np.mean(text_comps[:, 0:8].reshape((-1, 4, 2)), axis=1).astype(np.int32)
            x, y = centers[:, 0], centers[:, 1]
            height = (top_height_map[y, x] + bot_height_map[y, x]).reshape((-1, 1))
            width = np.clip(height * self.comp_w_h_ratio, self.min_width, self.max_width)
            _, label_mask = cv2.connectedComponents(center_region_mask, connectivity=8)
            comp_attribs = np.hstack([
                x.reshape((-1, 1)).astype(np.float32), y.reshape((-1, 1)).astype(np.float32),
                height, width, cos_map[y, x].reshape((-1, 1)), sin_map[y, x].reshape((-1, 1)),
                label_mask[y, x].reshape((-1, 1)).astype(np.float32)])
            comp_attribs = self.jitter_comp_attribs(comp_attribs, self.jitter_level)
            if comp_attribs.shape[0] < self.num_min_comps:
                comp_attribs = np.vstack([comp_attribs, self.generate_rand_comp_attribs(
                    self.num_min_comps - comp_attribs.shape[0], 1 - text_mask)])
        else:
            comp_attribs = self.generate_rand_comp_attribs(self.num_min_comps, 1 - text_mask)

        num = np.ones((comp_attribs.shape[0], 1), dtype=np.float32) * comp_attribs.shape[0]
        comp_attribs = np.hstack([num, comp_attribs])
        if comp_attribs.shape[0] > self.num_max_comps:
            comp_attribs = comp_attribs[:self.num_max_comps, :]
            comp_attribs[:, 0] = self.num_max_comps
        padded = np.zeros((self.num_max_comps, comp_attribs.shape[1]), dtype=np.float32)
        padded[:comp_attribs.shape[0], :] = comp_attribs
        return padded

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        polys = list(results.get("gt_masks") or [])
        ignored = list(results.get("gt_masks_ignore") or [])
        h, w = results["img_shape"][:2]
        text_mask = self.generate_text_region_mask((h, w), polys)
        center_lines, center, top, bot, sin, cos = self.generate_center_mask_attrib_maps(
            (h, w), polys)
        comp_attribs = self.generate_comp_attribs(center_lines, text_mask, center, top, bot,
                                                  sin, cos)
        results = _finish(results, dict(
            gt_text_mask=text_mask, gt_center_region_mask=center,
            gt_mask=effective_mask((h, w), ignored), gt_top_height_map=top,
            gt_bot_height_map=bot, gt_sin_map=sin, gt_cos_map=cos))
        results["gt_comp_attribs"] = comp_attribs
        return results
