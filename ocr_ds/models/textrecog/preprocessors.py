"""Recognition preprocessors (MMOCR 0.6.3's ``BasePreprocessor`` and ``TPSPreprocessor``).

A preprocessor runs on the batch image before the backbone (``model.preprocessor`` of any
encoder-decoder recogniser, CRNNNet included)::

    preprocessor=dict(type='TPSPreprocessor', num_fiducial=20, img_size=(32, 100),
                      rectified_img_size=(32, 100), num_img_channel=1)

``TPSPreprocessor`` is RARE's rectification (Shi et al., "Robust Scene Text Recognition with
Automatic Rectification"): a small CNN (``LocalizationNetwork``) predicts ``num_fiducial``
control points C' on the input, a thin-plate spline maps the fixed points C of the rectified
image onto them (``GridGenerator``: ``P' = P_hat @ inv_delta_C @ [C'; 0]``), and the input is
resampled on that grid. Module names, buffers and the construction order are MMOCR's, so its
checkpoints load and a seeded build draws its initial weights.

Differs from MMOCR: the spline (two matrix products) always runs in float32 -- under autocast,
and in a half-precision model from float32 copies of the two constant matrices -- and the grid
is cast to the image's dtype for the resampling; MMOCR's mixes dtypes there and stops.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule
from ocr_ds.translate.values import positive_int


class BasePreprocessor(BaseModule):
    """The identity preprocessor."""

    def forward(self, x: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return x


def _size(value: Any, key: str) -> tuple[int, int]:
    # MMOCR asserts a tuple; a list (a JSON/YAML config, --cfg-options "[32,100]") is accepted
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in value)):
        raise UserError(f"{key}: expected (height, width), two positive integers (got {value!r})")
    return tuple(value)


class TPSPreprocessor(BasePreprocessor):
    """TPS spatial transformer that rectifies the input image (MMOCR's ``TPSPreprocessor``).

    Args:
        num_fiducial: Number of control points, half on the top edge and half on the bottom
            edge; even and at least 4 (fewer or an odd number make the spline's system
            singular or ill-shaped). Defaults to 20.
        img_size: ``(H, W)`` of the input; checked, otherwise unused (as in MMOCR: the
            localisation network pools adaptively). Defaults to (32, 100).
        rectified_img_size: ``(H_r, W_r)`` of the output. Defaults to (32, 100).
        num_img_channel: Channels of the input image. Defaults to 1.
        init_cfg: As any ``BaseModule``'s. Defaults to None.

    Errors name the arguments as ``preprocessor.<arg>``; the builder makes that the full path
    (``model.preprocessor.num_fiducial``).
    """

    def __init__(self, num_fiducial: int = 20, img_size: Sequence[int] = (32, 100),
                 rectified_img_size: Sequence[int] = (32, 100), num_img_channel: int = 1,
                 init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        key = "preprocessor"
        positive_int(num_fiducial, f"{key}.num_fiducial")
        if num_fiducial < 4 or num_fiducial % 2:
            raise UserError(f"{key}.num_fiducial: expected an even integer >= 4 "
                            f"(got {num_fiducial!r})")
        self.num_fiducial = num_fiducial
        self.img_size = _size(img_size, f"{key}.img_size")
        self.rectified_img_size = _size(rectified_img_size, f"{key}.rectified_img_size")
        self.num_img_channel = positive_int(num_img_channel, f"{key}.num_img_channel")
        # MMOCR's attribute names (they are the state-dict keys)
        self.LocalizationNetwork = LocalizationNetwork(num_fiducial, num_img_channel)
        self.GridGenerator = GridGenerator(num_fiducial, self.rectified_img_size)

    def forward(self, batch_img: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W)`` -> the rectified ``(N, C, H_r, W_r)``."""
        batch_c_prime = self.LocalizationNetwork(batch_img)       # (N, F, 2)
        grid = self.GridGenerator.build_P_prime(batch_c_prime, batch_img.device)
        grid = grid.reshape(grid.size(0), *self.rectified_img_size, 2)
        return F.grid_sample(batch_img, grid.to(batch_img.dtype), padding_mode="border",
                             align_corners=True)


class LocalizationNetwork(nn.Module):
    """Predicts the control points C' ``(N, F, 2)`` in [-1, 1] image coordinates.

    A torch ``nn.Module`` as in MMOCR (``init_weights`` does not reach it): its layers keep
    torch's default initialisation, except ``localization_fc2``, which starts at weight 0 and a
    bias that places the points on a centred trapezoid (RARE's initialisation).
    """

    def __init__(self, num_fiducial: int, num_img_channel: int):
        super().__init__()
        self.num_fiducial = num_fiducial
        self.num_img_channel = num_img_channel
        layers: list[nn.Module] = []
        channels = [num_img_channel, 64, 128, 256, 512]
        for i, (cin, cout) in enumerate(zip(channels, channels[1:])):
            layers += [nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout),
                       nn.ReLU(True)]
            # halve the size after the first three blocks, pool to 1x1 after the last
            layers.append(nn.MaxPool2d(2, 2) if i < 3 else nn.AdaptiveAvgPool2d(1))
        self.conv = nn.Sequential(*layers)
        self.localization_fc1 = nn.Sequential(nn.Linear(512, 256), nn.ReLU(True))
        self.localization_fc2 = nn.Linear(256, num_fiducial * 2)
        half = num_fiducial // 2
        x = np.linspace(-1.0, 1.0, half)
        top = np.stack([x, np.linspace(0.0, -1.0, num=half)], axis=1)
        bottom = np.stack([x, np.linspace(1.0, 0.0, num=half)], axis=1)
        with torch.no_grad():
            self.localization_fc2.weight.zero_()
            self.localization_fc2.bias.copy_(
                torch.from_numpy(np.concatenate([top, bottom])).float().view(-1))

    def forward(self, batch_img: torch.Tensor) -> torch.Tensor:
        n = batch_img.size(0)
        features = self.conv(batch_img).view(n, -1)
        return self.localization_fc2(self.localization_fc1(features)).view(
            n, self.num_fiducial, 2)


class GridGenerator(nn.Module):
    """The thin-plate spline from the rectified image's fixed control points C to C'.

    Buffers (MMOCR's, saved in its checkpoints): ``inv_delta_C`` ``(F+3, F+3)``, the inverse of
    the spline's system matrix on C, and ``P_hat`` ``(H_r*W_r, F+3)``, the spline's basis at
    every output pixel centre P. ``build_P_prime`` gives the sampling grid
    ``P' = P_hat @ inv_delta_C @ [C'; 0]`` ``(N, H_r*W_r, 2)``, in float32.
    """

    eps = 1e-6

    def __init__(self, num_fiducial: int, rectified_img_size: Sequence[int]):
        super().__init__()
        self.num_fiducial = num_fiducial
        self.rectified_img_height, self.rectified_img_width = rectified_img_size
        self.C = self._build_C(num_fiducial)
        self.P = self._build_P(self.rectified_img_width, self.rectified_img_height)
        inv_delta_c = torch.tensor(self._build_inv_delta_C(num_fiducial, self.C)).float()
        p_hat = torch.tensor(self._build_P_hat(num_fiducial, self.C, self.P)).float()
        self.register_buffer("inv_delta_C", inv_delta_c)
        self.register_buffer("P_hat", p_hat)
        # float32 copies for a model cast to half precision (the buffers then round to 3
        # significant digits, which moves the grid by up to a pixel); moved to the buffers'
        # device when first needed
        self._fp32 = {"inv_delta_C": inv_delta_c.clone(), "P_hat": p_hat.clone()}

    @staticmethod
    def _build_C(num_fiducial: int) -> np.ndarray:
        """The fixed control points: ``F/2`` evenly on the top edge, ``F/2`` on the bottom."""
        half = num_fiducial // 2
        x = np.linspace(-1.0, 1.0, half)
        return np.concatenate([np.stack([x, -np.ones(half)], axis=1),
                               np.stack([x, np.ones(half)], axis=1)])

    @staticmethod
    def _build_inv_delta_C(num_fiducial: int, C: np.ndarray) -> np.ndarray:
        """Inverse of ``[[1, C, U(|C_i - C_j|)], [0, C^T], [0, 1^T]]``, ``U(r) = r^2 log r``."""
        hat_c = np.linalg.norm(C[:, None] - C[None], axis=2)
        np.fill_diagonal(hat_c, 1)               # U(1) = 0 on the diagonal, as MMOCR
        hat_c = hat_c ** 2 * np.log(hat_c)
        delta_c = np.concatenate([
            np.concatenate([np.ones((num_fiducial, 1)), C, hat_c], axis=1),
            np.concatenate([np.zeros((2, 3)), C.T], axis=1),
            np.concatenate([np.zeros((1, 3)), np.ones((1, num_fiducial))], axis=1)])
        return np.linalg.inv(delta_c)

    @staticmethod
    def _build_P(width: int, height: int) -> np.ndarray:
        """The output pixel centres in [-1, 1], row-major ``(H_r*W_r, 2)`` as ``(x, y)``."""
        grid_x = (np.arange(-width, width, 2) + 1.0) / width
        grid_y = (np.arange(-height, height, 2) + 1.0) / height
        return np.stack(np.meshgrid(grid_x, grid_y), axis=2).reshape(-1, 2)

    def _build_P_hat(self, num_fiducial: int, C: np.ndarray, P: np.ndarray) -> np.ndarray:
        """``[1, P, U(|P - C_j|)]`` per output pixel, ``(H_r*W_r, F+3)``."""
        rbf_norm = np.linalg.norm(P[:, None] - C[None], ord=2, axis=2)
        rbf = np.square(rbf_norm) * np.log(rbf_norm + self.eps)
        return np.concatenate([np.ones((P.shape[0], 1)), P, rbf], axis=1)

    def _matrix(self, name: str) -> torch.Tensor:
        buffer = getattr(self, name)
        if buffer.dtype in (torch.float32, torch.float64):
            return buffer.float()
        exact = self._fp32[name]
        if exact.device != buffer.device:
            exact = self._fp32[name] = exact.to(buffer.device)
        return exact

    def build_P_prime(self, batch_C_prime: torch.Tensor,
                      device: torch.device | str | None = None) -> torch.Tensor:
        """The sampling grid ``(N, H_r*W_r, 2)`` for control points ``(N, F, 2)``, float32
        (``device``: MMOCR's argument, unused: the grid is made where the points are)."""
        n = batch_C_prime.size(0)
        # float32 even under autocast: in bf16 the spline's products move the grid by pixels
        with torch.autocast(device_type=batch_C_prime.device.type, enabled=False):
            c_prime = torch.cat([batch_C_prime.float(),
                                 batch_C_prime.new_zeros(n, 3, 2, dtype=torch.float32)], dim=1)
            inv_delta_c = self._matrix("inv_delta_C")
            p_hat = self._matrix("P_hat")
            batch_t = torch.bmm(inv_delta_c.expand(n, *inv_delta_c.shape), c_prime)
            return torch.bmm(p_hat.expand(n, *p_hat.shape), batch_t)
