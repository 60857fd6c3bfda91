"""The reference side of the parity harness: runs inside the MMOCR 0.6.3 venv.

Started once per test session by :mod:`tests.parity.refenv`. Reads requests from stdin and
writes replies to the original stdout, each a ``torch.save`` payload behind an 8-byte length:
request ``{'file': path, 'func': name, 'kwargs': {...}}`` -> reply ``{'ok': result}`` or
``{'error': traceback text}``. ``file`` is a "ref side" module of the test suite (any ``.py``
file; imported once by path) whose function runs MMOCR's own code. Everything a function
prints goes to stderr, so it cannot corrupt the replies.

Values cross as what ``torch.load(weights_only=True)`` accepts: tensors, numbers, strings,
None, and lists/tuples/dicts of them. numpy arrays and numpy scalars are turned into tensors
and Python numbers on the way out (the two venvs have different numpy majors).
"""
import importlib.util
import io
import os
import struct
import sys
import traceback

import numpy as np
import torch

torch.set_num_threads(1)
# the ref-side helpers (mmocr_common.py) sit beside this file
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def to_wire(value):
    """numpy -> torch / Python, recursively (numpy pickles do not cross numpy majors)."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_wire(v) for v in value)
    return value


def _read_exact(stream, n):
    data = bytearray()      # appending to bytes copies it all each time
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def main():
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)                         # prints of the code under test go to stderr
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer
    modules = {}
    while True:
        head = _read_exact(inp, 8)
        if head is None:
            return
        request = torch.load(io.BytesIO(_read_exact(inp, struct.unpack("<Q", head)[0])),
                             weights_only=True)
        try:
            path = request["file"]
            if path not in modules:
                spec = importlib.util.spec_from_file_location(
                    f"ref_side_{len(modules)}", path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                modules[path] = module
            result = getattr(modules[path], request["func"])(**request["kwargs"])
            reply = {"ok": to_wire(result)}
        except BaseException:  # noqa: BLE001 - everything goes back to the test
            reply = {"error": traceback.format_exc()}
        buf = io.BytesIO()
        torch.save(reply, buf)
        out.write(struct.pack("<Q", buf.tell()) + buf.getvalue())
        out.flush()


if __name__ == "__main__":
    main()
