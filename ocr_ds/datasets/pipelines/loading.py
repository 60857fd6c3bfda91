"""Image loading steps: bytes through :class:`~ocr_ds.fileio.FileClient`, decoded by OpenCV.

Both steps follow mmdet/mmcv's ``LoadImageFromFile``: they read ``results['img_info']
['filename']`` (joined to ``results['img_prefix']`` on disk), and set ``img``, ``img_shape``,
``ori_shape``, ``filename``, ``ori_filename`` and ``img_fields``. A grayscale image is a 2-D
``(H, W)`` array, a colour one ``(H, W, 3)`` in BGR order unless ``channel_order='rgb'``.

A missing or undecodable image raises :class:`~ocr_ds.datasets.invalid.InvalidSample`, which the
dataset skips or reports.
"""
from __future__ import annotations

import copy
import os.path as osp
from typing import Any

import cv2
import numpy as np

from ocr_ds.datasets.invalid import MISSING_IMAGE, UNDECODABLE_IMAGE, InvalidSample
from ocr_ds.errors import UserError, bad_value, unknown_name
from ocr_ds.fileio import BACKENDS, FileClient

_IMREAD_FLAGS = {
    "color": cv2.IMREAD_COLOR,
    "color_ignore_orientation": cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION,
    "grayscale": cv2.IMREAD_GRAYSCALE,
    "unchanged": cv2.IMREAD_UNCHANGED,
}


def imfrombytes(content: bytes, flag: str = "color",
                channel_order: str = "bgr") -> np.ndarray | None:
    """Decode encoded image bytes (mmcv's ``imfrombytes`` with the cv2 backend); None if invalid."""
    buf = np.frombuffer(content, dtype=np.uint8)
    if buf.size == 0:
        return None
    img = cv2.imdecode(buf, _IMREAD_FLAGS[flag])
    if img is None or img.size == 0:
        return None
    if flag == "color" and channel_order == "rgb":
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img


class LoadImageFromFile:
    """Load an image through a file client.

    Args:
        to_float32: Return a float32 array instead of uint8. Defaults to False.
        color_type: ``'color'``, ``'grayscale'`` or ``'unchanged'``. Defaults to ``'color'``.
        channel_order: ``'bgr'`` or ``'rgb'`` for colour images. Defaults to ``'bgr'``.
        file_client_args: ``dict(backend='disk')``, ``dict(backend='lmdb', db_path=...)`` or
            ``dict(backend='memcached', servers=[...])`` (a cache in front of the disk).
            With the lmdb backend and no ``db_path``, ``img_prefix`` is the lmdb directory and
            ``filename`` the key (MMOCR's ``LoadImageFromLMDB`` layout). Defaults to disk.
    """

    def __init__(self, to_float32: bool = False, color_type: str = "color",
                 channel_order: str = "bgr", file_client_args: dict | None = None, **kwargs: Any):
        if color_type not in _IMREAD_FLAGS:
            raise bad_value("LoadImageFromFile.color_type", color_type,
                            f"one of {sorted(_IMREAD_FLAGS)}")
        if channel_order not in ("bgr", "rgb"):
            raise bad_value("LoadImageFromFile.channel_order", channel_order, "'bgr' or 'rgb'")
        self.to_float32 = to_float32
        self.color_type = color_type
        self.channel_order = channel_order
        if file_client_args is not None and not isinstance(file_client_args, dict):
            raise bad_value(f"{type(self).__name__}.file_client_args", file_client_args,
                            "a dict like dict(backend='disk')")
        self.file_client_args = copy.deepcopy(dict(file_client_args or dict(backend="disk")))
        self.file_client_args.setdefault("backend", "disk")
        if self.file_client_args["backend"] not in BACKENDS:  # found now, not at the first read
            raise unknown_name(f"{type(self).__name__}.file_client_args.backend",
                               self.file_client_args["backend"], BACKENDS)
        # one client per lmdb directory; an lmdb without db_path waits for the first img_prefix.
        # The others are built now, in the process that builds the pipeline: bad arguments fail
        # at start-up, and a memcached backend's outage state is shared with forked workers.
        # Connections (lmdb environments, memcached sockets) open lazily in the reading process.
        self._clients: dict[str, FileClient] = {}
        if self.file_client_args["backend"] != "lmdb" or self.file_client_args.get("db_path"):
            self._client(None)

    def _client(self, img_prefix: str | None) -> FileClient:
        args = dict(self.file_client_args)
        if args["backend"] == "lmdb" and not args.get("db_path"):
            if not img_prefix:
                raise UserError("file_client_args: the lmdb backend needs db_path (or the "
                                "dataset's img_prefix set to the lmdb directory)")
            args["db_path"] = img_prefix
        cache_key = str(args.get("db_path", ""))
        if cache_key not in self._clients:
            self._clients[cache_key] = FileClient(**args)
        return self._clients[cache_key]

    def _path(self, results: dict[str, Any]) -> str:
        name = results["img_info"]["filename"]
        prefix = results.get("img_prefix")
        if self.file_client_args["backend"] == "lmdb" or not prefix:
            return name  # an lmdb key is not a path: never join it to the prefix
        return osp.join(prefix, name)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        filename = self._path(results)
        try:
            content = self._client(results.get("img_prefix")).get(filename)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise InvalidSample(MISSING_IMAGE, filename, type(exc).__name__) from None
        img = imfrombytes(content, self.color_type, self.channel_order)
        if img is None:
            raise InvalidSample(UNDECODABLE_IMAGE, filename, f"{len(content)} bytes")
        if self.to_float32:
            img = img.astype(np.float32)
        results["filename"] = filename
        results["ori_filename"] = results["img_info"]["filename"]
        results["img"] = img
        results["img_shape"] = img.shape
        results["ori_shape"] = img.shape
        results["img_fields"] = ["img"]
        return results

    def placeholder(self, results: dict[str, Any], height: int = 32,
                    width: int = 32) -> dict[str, Any]:
        """Fill ``results`` as if a blank image had been loaded (a sample that keeps its slot)."""
        shape = (height, width) if self.color_type == "grayscale" else (height, width, 3)
        img = np.zeros(shape, np.float32 if self.to_float32 else np.uint8)
        name = results.get("img_info", {}).get("filename", "")
        results.update(filename=name, ori_filename=name, img=img, img_shape=img.shape,
                       ori_shape=img.shape, img_fields=["img"])
        return results

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(color_type={self.color_type!r}, "
                f"file_client_args={self.file_client_args!r})")


class LoadImageFromLMDB(LoadImageFromFile):
    """Load an image stored in an lmdb (``image-%09d`` keys); ``img_prefix`` is the lmdb dir.

    MMOCR 0.x's step of the same name; equivalent to ``LoadImageFromFile`` with
    ``file_client_args=dict(backend='lmdb')``.
    """

    def __init__(self, color_type: str = "color", to_float32: bool = False,
                 channel_order: str = "bgr", file_client_args: dict | None = None, **kwargs: Any):
        args = dict(file_client_args or {})
        args.setdefault("backend", "lmdb")
        super().__init__(to_float32=to_float32, color_type=color_type,
                         channel_order=channel_order, file_client_args=args)


class LoadImageFromNdarray(LoadImageFromFile):
    """The image already in ``results['img']`` (a uint8 array, as ``python -m
    ocr_ds.tools.ocr`` hands crops and images over): MMOCR 0.x's step of that name. A
    ``'grayscale'`` step turns a BGR image into ``(H, W, 1)`` (OpenCV's BGR-to-gray), a
    ``'color'`` one a 1-channel image into BGR; ``filename`` and ``ori_filename`` are None."""

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        if img.dtype != np.uint8:
            raise UserError(f"LoadImageFromNdarray: expected a uint8 image (got {img.dtype})")
        if self.color_type == "grayscale" and img.shape[2] == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[..., None]
        if self.color_type == "color" and img.shape[2] == 1:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        if self.to_float32:
            img = img.astype(np.float32)
        results.update(filename=None, ori_filename=None, img=img, img_shape=img.shape,
                       ori_shape=img.shape, img_fields=["img"])
        return results
