"""CTW1500-style text polygons for the curved-text tests (not a test module)."""
import numpy as np


def curved_polygon(rng, cx, cy, length, height, bend, angle, side_points=7, integer=False):
    """A bent text line as a closed ``2 * side_points``-point polygon: the top side left to
    right, then the bottom side right to left (clockwise on screen), as CTW1500 annotates."""
    t = np.linspace(-0.5, 0.5, side_points)
    xs = t * length
    ys = bend * (4 * t ** 2 - 1)
    dx, dy = np.gradient(xs), np.gradient(ys)
    n = np.stack([dy, -dx], 1) / np.hypot(dx, dy)[:, None]      # normal pointing up
    centre = np.stack([xs, ys], 1)
    top = centre + n * height / 2
    bottom = (centre - n * height / 2)[::-1]
    pts = np.concatenate([top, bottom])
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    pts = pts @ np.array([[c, s], [-s, c]]) + (cx, cy)
    pts = pts + rng.uniform(-0.4, 0.4, pts.shape)
    if integer:
        pts = np.round(pts)
    return pts.reshape(-1).astype(np.float32)


def scene_polygons(seed, h, w, integer=False):
    """Three curved lines, a quadrilateral and a 6-point polygon in an ``h x w`` image, and
    one ignored curved line."""
    rng = np.random.RandomState(seed)
    polys = [
        curved_polygon(rng, w * 0.3, h * 0.25, w * 0.4, h * 0.12, h * 0.06, 5, integer=integer),
        curved_polygon(rng, w * 0.65, h * 0.55, w * 0.45, h * 0.1, -h * 0.08, -12,
                       integer=integer),
        curved_polygon(rng, w * 0.2, h * 0.7, w * 0.2, h * 0.08, 0.0, 80, side_points=5,
                       integer=integer),
        np.array([w * 0.55, h * 0.1, w * 0.9, h * 0.12, w * 0.89, h * 0.2, w * 0.56, h * 0.19],
                 np.float32),
        np.array([w * 0.1, h * 0.85, w * 0.2, h * 0.84, w * 0.3, h * 0.86, w * 0.3, h * 0.95,
                  w * 0.2, h * 0.94, w * 0.1, h * 0.95], np.float32),
    ]
    ignore = [curved_polygon(rng, w * 0.75, h * 0.85, w * 0.2, h * 0.06, h * 0.02, 0,
                             integer=integer)]
    if integer:
        polys = [np.round(p) for p in polys]
    return polys, ignore
