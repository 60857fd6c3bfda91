"""``TextSnakeTargets``: TextSnake's training maps, as MMOCR 0.6.3 draws them.

Each text polygon is split into a head edge, a tail edge and two sidelines
(:meth:`TextSnakeTargets.reorder_poly_edge`: the two edges that best look like the ends of a
text line); the sidelines are resampled to the same number of points every
``resample_step`` pixels, their midpoints form the center line, which is shortened at both
ends by a quarter of the text height. Between consecutive center points, the quadrilateral
shrunk towards the center line by ``center_region_shrink_ratio`` is filled into the center
mask, and with the local half-height (radius) and the direction's sin and cos into their maps.

Outputs (image size, in ``seg_fields`` so ``Pad`` pads them with 0): ``gt_text_mask``,
``gt_center_region_mask``, ``gt_mask`` (0 on ``###`` regions) as uint8, ``gt_radius_map``,
``gt_sin_map``, ``gt_cos_map`` as float32. :mod:`.fcenet` builds on the same geometry.
"""
from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np
from numpy.linalg import norm

from ocr_ds.datasets.pipelines.textdet_targets import _finish, effective_mask
from ocr_ds.errors import bad_value


class TextSnakeTargets:
    """Args:
        orientation_thr: For quadrilaterals: the long edges are the sidelines when they are
            this many times longer than the short ones, else the short ones are.
            Defaults to 2.0.
        resample_step: Sideline sampling step in pixels. Defaults to 4.0.
        center_region_shrink_ratio: Height of the center region relative to the text.
            Defaults to 0.3.
    """

    def __init__(self, orientation_thr: float = 2.0, resample_step: float = 4.0,
                 center_region_shrink_ratio: float = 0.3):
        if not isinstance(resample_step, float) or resample_step <= 0:
            raise bad_value(f"{type(self).__name__}.resample_step", resample_step,
                            "a positive float")
        self.orientation_thr = float(orientation_thr)
        self.resample_step = resample_step
        self.center_region_shrink_ratio = float(center_region_shrink_ratio)
        self.eps = 1e-8

    # -- vectors. MMOCR ran on numpy 1.x, where a float32 *scalar* met by a Python number
    # computes in float64 while a float32 *array* met by any scalar stays float32; numpy 2
    # keeps float32 scalars float32. ``float(...)`` below restores numpy 1's precision.
    def vector_angle(self, vec1: np.ndarray, vec2: np.ndarray) -> np.ndarray | float:
        def unit(v: np.ndarray) -> np.ndarray:
            if v.ndim > 1:
                return v / (norm(v, axis=-1) + self.eps).reshape((-1, 1))
            return v / (float(norm(v, axis=-1)) + self.eps)
        cos = np.sum(unit(vec1) * unit(vec2), axis=-1)
        if np.ndim(cos) == 0:
            return float(np.arccos(np.clip(float(cos), -1.0, 1.0)))
        return np.arccos(np.clip(cos, -1.0, 1.0))

    def vector_slope(self, vec: np.ndarray) -> float:
        return abs(float(vec[1]) / (float(vec[0]) + self.eps))

    def vector_sin(self, vec: np.ndarray) -> float:
        return float(vec[1]) / (float(norm(vec)) + self.eps)

    def vector_cos(self, vec: np.ndarray) -> float:
        return float(vec[0]) / (float(norm(vec)) + self.eps)

    # -- polygon structure
    def find_head_tail(self, points: np.ndarray, orientation_thr: float
                       ) -> tuple[list[int], list[int]]:
        """Indices of the two points of the head edge and of the tail edge."""
        n = len(points)
        if n > 4:
            pad_points = np.vstack([points, points[0]])
            edge_vec = pad_points[1:] - pad_points[:-1]
            theta_sum, adjacent_theta = [], []
            for i, edge in enumerate(edge_vec):
                adjacent = edge_vec[[(i - 1) % n, (i + 1) % n]]
                theta_sum.append(np.sum(self.vector_angle(edge, adjacent)))
                adjacent_theta.append(self.vector_angle(adjacent[0], adjacent[1]))
            theta_sum_score = np.array(theta_sum) / np.pi
            adjacent_theta_score = np.array(adjacent_theta) / np.pi
            center = np.mean(points, axis=0)
            edge_dist = np.maximum(norm(pad_points[1:] - center, axis=-1),
                                   norm(pad_points[:-1] - center, axis=-1))
            dist_score = edge_dist / (float(np.max(edge_dist)) + self.eps)
            position_score = np.zeros(n)
            score = 0.5 * theta_sum_score + 0.15 * adjacent_theta_score
            score += 0.35 * dist_score
            if n % 2 == 0:
                position_score[n // 2 - 1] += 1
                position_score[-1] += 1
            score += 0.1 * position_score
            pad_score = np.concatenate([score, score])
            score_matrix = np.zeros((n, n - 3))
            x = np.arange(n - 3) / float(n - 4)
            gaussian = 1. / (np.sqrt(2. * np.pi) * 0.5) * np.exp(
                -np.power((x - 0.5) / 0.5, 2.) / 2)
            gaussian = gaussian / np.max(gaussian)
            for i in range(n):
                score_matrix[i, :] = score[i] + pad_score[(i + 2):(i + n - 1)] * gaussian * 0.3
            head_start, tail_increment = np.unravel_index(score_matrix.argmax(),
                                                          score_matrix.shape)
            tail_start = (head_start + tail_increment + 2) % n
            head_end = (head_start + 1) % n
            tail_end = (tail_start + 1) % n
            if head_end > tail_end:
                head_start, tail_start = tail_start, head_start
                head_end, tail_end = tail_end, head_end
            return [head_start, head_end], [tail_start, tail_end]
        slope = self.vector_slope
        if slope(points[1] - points[0]) + slope(points[3] - points[2]) < \
                slope(points[2] - points[1]) + slope(points[0] - points[3]):
            horizontal, vertical = [[0, 1], [2, 3]], [[3, 0], [1, 2]]
        else:
            horizontal, vertical = [[3, 0], [1, 2]], [[0, 1], [2, 3]]
        vertical_len = norm(points[vertical[0][0]] - points[vertical[0][1]]) + norm(
            points[vertical[1][0]] - points[vertical[1][1]])
        horizontal_len = norm(points[horizontal[0][0]] - points[horizontal[0][1]]) + norm(
            points[horizontal[1][0]] - points[horizontal[1][1]])
        if vertical_len > float(horizontal_len) * orientation_thr:
            return horizontal[0], horizontal[1]
        return vertical[0], vertical[1]

    def reorder_poly_edge(self, points: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(head edge, tail edge, top sideline, bottom sideline) of an ``(n, 2)`` polygon."""
        if points.ndim != 2 or points.shape[0] < 4:
            raise ValueError(f"a text polygon needs at least 4 distinct points "
                             f"(got {points.shape[0]})")
        head_inds, tail_inds = self.find_head_tail(points, self.orientation_thr)
        head_edge, tail_edge = points[head_inds], points[tail_inds]
        pad_points = np.vstack([points, points])
        if tail_inds[1] < 1:
            tail_inds[1] = len(points)
        sideline1 = pad_points[head_inds[1]:tail_inds[1]]
        sideline2 = pad_points[tail_inds[1]:(head_inds[1] + len(points))]
        shift = np.mean(sideline1, axis=0) - np.mean(sideline2, axis=0)
        if shift[1] > 0:
            return head_edge, tail_edge, sideline2, sideline1
        return head_edge, tail_edge, sideline1, sideline2

    # -- resampling
    def cal_curve_length(self, line: np.ndarray) -> tuple[np.ndarray, float]:
        edges = np.sqrt((line[1:, 0] - line[:-1, 0]) ** 2 + (line[1:, 1] - line[:-1, 1]) ** 2)
        return edges, np.sum(edges)

    def resample_line(self, line: np.ndarray, n: int) -> np.ndarray:
        """``n`` points equally spaced along the polyline ``line`` (ends kept)."""
        edges, total = self.cal_curve_length(line)
        t_org = np.insert(np.cumsum(edges), 0, 0)
        unit_t = float(total) / (n - 1)
        t_equidistant = np.arange(1, n - 1, dtype=np.float32) * unit_t
        edge_ind = 0
        points = [line[0]]
        for t in t_equidistant:
            while edge_ind < len(edges) - 1 and t > t_org[edge_ind + 1]:
                edge_ind += 1
            t_l, t_r = t_org[edge_ind], t_org[edge_ind + 1]
            weight = np.array([t_r - t, t - t_l], dtype=np.float32) / (
                float(t_r - t_l) + self.eps)
            points.append(np.dot(weight, line[[edge_ind, edge_ind + 1]]))
        points.append(line[-1])
        return np.vstack(points)

    def resample_sidelines(self, sideline1: np.ndarray, sideline2: np.ndarray,
                           resample_step: float) -> tuple[np.ndarray, np.ndarray]:
        _, length1 = self.cal_curve_length(sideline1)
        _, length2 = self.cal_curve_length(sideline2)
        avg_length = float(length1 + length2) / 2
        num = max(int(float(avg_length) / resample_step) + 1, 3)
        return self.resample_line(sideline1, num), self.resample_line(sideline2, num)

    def center_line(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(center line, top line, bottom line), resampled, the bottom reversed to run
        along the top."""
        _, _, top_line, bot_line = self.reorder_poly_edge(points)
        top, bot = self.resample_sidelines(top_line, bot_line, self.resample_step)
        bot = bot[::-1]
        return (top + bot) / 2, top, bot

    def shrink_ends(self, center: np.ndarray, top: np.ndarray, bot: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Drop a quarter of the text height's worth of points at each end (if enough)."""
        head_shrink_num = int((float(norm(top[0] - bot[0])) / 4.0) // self.resample_step)
        tail_shrink_num = int((float(norm(top[-1] - bot[-1])) / 4.0) // self.resample_step)
        if len(center) > head_shrink_num + tail_shrink_num + 2:
            end = len(center) - tail_shrink_num
            return (center[head_shrink_num:end], top[head_shrink_num:end],
                    bot[head_shrink_num:end])
        return center, top, bot

    def center_box(self, center: np.ndarray, top: np.ndarray, bot: np.ndarray, i: int
                   ) -> np.ndarray:
        """The int32 quadrilateral between center points i and i+1, shrunk towards them."""
        r = self.center_region_shrink_ratio
        tl = center[i] + (top[i] - center[i]) * r
        tr = center[i + 1] + (top[i + 1] - center[i + 1]) * r
        br = center[i + 1] + (bot[i + 1] - center[i + 1]) * r
        bl = center[i] + (bot[i] - center[i]) * r
        return np.vstack([tl, tr, br, bl]).astype(np.int32)

    # -- maps
    def draw_center_region_maps(self, top_line: np.ndarray, bot_line: np.ndarray,
                                center_line: np.ndarray, center_region_mask: np.ndarray,
                                radius_map: np.ndarray, sin_map: np.ndarray,
                                cos_map: np.ndarray, region_shrink_ratio: float) -> None:
        for i in range(0, len(center_line) - 1):
            top_mid = (top_line[i] + top_line[i + 1]) / 2
            bot_mid = (bot_line[i] + bot_line[i + 1]) / 2
            radius = float(norm(top_mid - bot_mid)) / 2
            direction = center_line[i + 1] - center_line[i]
            box = self.center_box(center_line, top_line, bot_line, i)
            cv2.fillPoly(center_region_mask, [box], color=1)
            cv2.fillPoly(sin_map, [box], color=self.vector_sin(direction))
            cv2.fillPoly(cos_map, [box], color=self.vector_cos(direction))
            cv2.fillPoly(radius_map, [box], color=radius)

    @staticmethod
    def points_of(poly: np.ndarray) -> np.ndarray:
        """A flat polygon as ``(n, 2)`` points (its own dtype, float32 as loaded)."""
        return np.asarray(poly).reshape(-1, 2)

    def generate_center_mask_attrib_maps(self, img_size: tuple[int, int],
                                         text_polys: Sequence[np.ndarray]
                                         ) -> tuple[np.ndarray, ...]:
        h, w = img_size
        center_region_mask = np.zeros((h, w), np.uint8)
        radius_map = np.zeros((h, w), dtype=np.float32)
        sin_map = np.zeros((h, w), dtype=np.float32)
        cos_map = np.zeros((h, w), dtype=np.float32)
        for poly in text_polys:
            points = self.points_of(poly)
            n = len(points)
            keep = [i for i in range(n) if norm(points[i] - points[(i + 1) % n]) > 1e-5]
            center, top, bot = self.center_line(points[keep])
            # run left to right (top to bottom for steep lines)
            direction = center[-1] - center[0]
            if (direction[1] < 0) if self.vector_slope(direction) > 0.9 else (direction[0] < 0):
                center, top, bot = center[::-1], top[::-1], bot[::-1]
            center, top, bot = self.shrink_ends(center, top, bot)
            self.draw_center_region_maps(top, bot, center, center_region_mask, radius_map,
                                         sin_map, cos_map, self.center_region_shrink_ratio)
        return center_region_mask, radius_map, sin_map, cos_map

    def generate_text_region_mask(self, img_size: tuple[int, int],
                                  text_polys: Sequence[np.ndarray]) -> np.ndarray:
        mask = np.zeros(img_size, dtype=np.uint8)
        for poly in text_polys:
            cv2.fillPoly(mask, self.points_of(poly).astype(np.int32).reshape((1, -1, 2)), 1)
        return mask

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        polys = list(results.get("gt_masks") or [])
        ignored = list(results.get("gt_masks_ignore") or [])
        h, w = results["img_shape"][:2]
        center, radius, sin, cos = self.generate_center_mask_attrib_maps((h, w), polys)
        return _finish(results, dict(
            gt_text_mask=self.generate_text_region_mask((h, w), polys),
            gt_center_region_mask=center, gt_mask=effective_mask((h, w), ignored),
            gt_radius_map=radius, gt_sin_map=sin, gt_cos_map=cos))
