"""Binary-mask helpers shared by the detection post-processors (FCENet, TextSnake)."""
from __future__ import annotations

import cv2
import numpy as np


def fill_hole(mask: np.ndarray) -> np.ndarray:
    """``mask`` with every background region not connected to the border filled in.

    MMOCR's ``fill_hole``: flood-fill the background from a one-pixel frame around the mask;
    what the fill does not reach is a hole. Returns a bool array of ``mask``'s shape.
    """
    h, w = mask.shape
    canvas = np.zeros((h + 2, w + 2), np.uint8)
    canvas[1:h + 1, 1:w + 1] = mask
    cv2.floodFill(canvas, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 1)
    return ~canvas[1:h + 1, 1:w + 1].astype(bool) | mask
