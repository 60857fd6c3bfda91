"""``FCENetTargets``: FCENet's per-level training maps, as MMOCR 0.6.3 draws them.

Each text polygon goes to every pyramid level whose ``level_proportion_range`` holds its
bounding-box size relative to the image height, scaled down by the level's stride. On each
level (``(h // stride, w // stride)``, from the unpadded ``img_shape``), the maps stacked
along the channels are: the text region, the text center region (TextSnake's center line,
shrunk), the effective mask (0 on ``###`` regions), then 2k+1 real and 2k+1 imaginary parts
of the polygon's Fourier signature on its pixels -- the polygon resampled at 400 points,
started at its rightmost point, made clockwise; the constant term is stored relative to each
pixel. Outputs ``p3_maps``, ``p4_maps``, ``p5_maps`` (float32 ``(4k+5, H_l, W_l)``).
"""
from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np
from ocr_ds.datasets.pipelines.targets.textsnake import TextSnakeTargets
from ocr_ds.datasets.pipelines.textdet_targets import _finish, effective_mask
from ocr_ds.errors import bad_value


class FCENetTargets(TextSnakeTargets):
    """Args:
        fourier_degree: k, the highest Fourier degree. Defaults to 5.
        resample_step: Center-line sampling step in pixels. Defaults to 4.0.
        center_region_shrink_ratio: Height of the center region relative to the text.
            Defaults to 0.3.
        level_size_divisors: The stride of each level. Defaults to (8, 16, 32).
        level_proportion_range: ``(low, high)`` text size / image height of each level
            (exclusive). Defaults to ((0, 0.4), (0.3, 0.7), (0.6, 1.0)).
    """

    def __init__(self, fourier_degree: int = 5, resample_step: float = 4.0,
                 center_region_shrink_ratio: float = 0.3,
                 level_size_divisors: Sequence[int] = (8, 16, 32),
                 level_proportion_range: Sequence[Sequence[float]] = ((0, 0.4), (0.3, 0.7),
                                                                      (0.6, 1.0))):
        super().__init__(resample_step=resample_step,
                         center_region_shrink_ratio=center_region_shrink_ratio)
        if len(level_size_divisors) != len(level_proportion_range):
            raise bad_value("FCENetTargets.level_proportion_range", level_proportion_range,
                            f"one range per level of level_size_divisors "
                            f"({len(level_size_divisors)})")
        if len(level_size_divisors) != 3:
            raise bad_value("FCENetTargets.level_size_divisors", level_size_divisors,
                            "three levels (p3, p4, p5)")
        if not isinstance(fourier_degree, int) or fourier_degree < 2:
            raise bad_value("FCENetTargets.fourier_degree", fourier_degree, "an integer >= 2")
        self.fourier_degree = fourier_degree
        self.level_size_divisors = tuple(level_size_divisors)
        self.level_proportion_range = tuple(tuple(r) for r in level_proportion_range)

    def generate_center_region_mask(self, img_size: tuple[int, int],
                                    text_polys: Sequence[np.ndarray]) -> np.ndarray:
        mask = np.zeros(img_size, np.uint8)
        boxes = []
        for poly in text_polys:
            center, top, bot = self.shrink_ends(*self.center_line(self.points_of(poly)))
            boxes += [self.center_box(center, top, bot, i) for i in range(len(center) - 1)]
        cv2.fillPoly(mask, boxes, 1)
        return mask

    @staticmethod
    def resample_polygon(polygon: np.ndarray, n: int = 400) -> np.ndarray:
        """About ``n`` points along the closed polygon, each edge getting its share."""
        following = np.roll(polygon, -1, axis=0)
        # float64 lengths of float32 differences: numpy 1's scalar arithmetic (see
        # TextSnakeTargets)
        length = [(float(p1[0] - p2[0]) ** 2 + float(p1[1] - p2[1]) ** 2) ** 0.5
                  for p1, p2 in zip(polygon, following)]
        per_edge = ((np.array(length) / (sum(length) + 1e-8)) * n).astype(np.int32)
        points = []
        for num, p1, p2 in zip(per_edge, polygon, following):
            if num == 0:
                continue
            dxdy = (p2 - p1) / int(num)
            points += [p1 + dxdy * j for j in range(num)]
        return np.array(points)

    @staticmethod
    def normalize_polygon(polygon: np.ndarray) -> np.ndarray:
        """Rotate the point order to start at the rightmost-and-highest of the points nearest
        the vertical through the centre."""
        centred = polygon - polygon.mean(axis=0)
        # stable: among points tied in |x|, MMOCR's pick followed numpy's unstable sort, whose
        # tie order differs between numpy versions and CPUs
        index_x = np.argsort(np.abs(centred[:, 0]), kind="stable")
        index = index_x[np.argmin(centred[:, 1][index_x[:8]])]
        return np.concatenate([polygon[index:], polygon[:index]])

    @staticmethod
    def poly2fourier(polygon: np.ndarray, fourier_degree: int) -> np.ndarray:
        # in double precision, as numpy 1's FFT (numpy 2 keeps complex64 in single)
        points = (polygon[:, 0] + polygon[:, 1] * 1j).astype(np.complex128)
        c_fft = np.fft.fft(points) / len(points)
        return np.hstack((c_fft[-fourier_degree:], c_fft[:fourier_degree + 1]))

    @staticmethod
    def clockwise(c: np.ndarray, fourier_degree: int) -> np.ndarray:
        k = fourier_degree
        if np.abs(c[k + 1]) > np.abs(c[k - 1]):
            return c
        if np.abs(c[k + 1]) < np.abs(c[k - 1]):
            return c[::-1]
        return c if np.abs(c[k + 2]) > np.abs(c[k - 2]) else c[::-1]

    def cal_fourier_signature(self, polygon: np.ndarray, fourier_degree: int) -> np.ndarray:
        """``(2k+1, 2)``: real and imaginary parts of the coefficients of degree -k..k."""
        resampled = self.normalize_polygon(self.resample_polygon(polygon))
        coeff = self.clockwise(self.poly2fourier(resampled, fourier_degree), fourier_degree)
        return np.hstack([np.real(coeff).reshape((-1, 1)), np.imag(coeff).reshape((-1, 1))])

    def generate_fourier_maps(self, img_size: tuple[int, int],
                              text_polys: Sequence[np.ndarray]
                              ) -> tuple[np.ndarray, np.ndarray]:
        h, w = img_size
        k = self.fourier_degree
        real_map = np.zeros((k * 2 + 1, h, w), dtype=np.float32)
        imag_map = np.zeros((k * 2 + 1, h, w), dtype=np.float32)
        for poly in text_polys:
            polygon = self.points_of(poly)
            mask = np.zeros((h, w), dtype=np.uint8)
            cv2.fillPoly(mask, polygon.reshape((1, -1, 2)).astype(np.int32), 1)
            coeff = self.cal_fourier_signature(polygon, k)
            inside = mask > 0.5
            for i in range(-k, k + 1):
                if i != 0:
                    # later polygons overwrite earlier ones where they overlap
                    real_map[i + k][inside] = coeff[i + k, 0]
                    imag_map[i + k][inside] = coeff[i + k, 1]
                else:
                    y, x = np.nonzero(inside)
                    real_map[k, y, x] = coeff[k, 0] - x
                    imag_map[k, y, x] = coeff[k, 1] - y
        return real_map, imag_map

    def generate_level_targets(self, img_size: tuple[int, int],
                               text_polys: Sequence[np.ndarray],
                               ignore_polys: Sequence[np.ndarray]) -> list[np.ndarray]:
        h, w = img_size
        levels = len(self.level_size_divisors)
        lv_text: list[list[np.ndarray]] = [[] for _ in range(levels)]
        lv_ignore: list[list[np.ndarray]] = [[] for _ in range(levels)]
        for polys, out in ((text_polys, lv_text), (ignore_polys, lv_ignore)):
            for poly in polys:
                points = self.points_of(poly).astype(np.int32).reshape((1, -1, 2))
                _, _, box_w, box_h = cv2.boundingRect(points)
                proportion = max(box_h, box_w) / (h + 1e-8)
                for ind, (low, high) in enumerate(self.level_proportion_range):
                    if low < proportion < high:
                        out[ind].append(np.asarray(poly) / self.level_size_divisors[ind])
        level_maps = []
        for ind, divisor in enumerate(self.level_size_divisors):
            size = (h // divisor, w // divisor)
            real, imag = self.generate_fourier_maps(size, lv_text[ind])
            level_maps.append(np.concatenate([
                self.generate_text_region_mask(size, lv_text[ind])[None],
                self.generate_center_region_mask(size, lv_text[ind])[None],
                effective_mask(size, lv_ignore[ind])[None], real, imag]))
        return level_maps

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        h, w = results["img_shape"][:2]
        maps = self.generate_level_targets((h, w), list(results.get("gt_masks") or []),
                                           list(results.get("gt_masks_ignore") or []))
        return _finish(results, dict(p3_maps=maps[0], p4_maps=maps[1], p5_maps=maps[2]))

