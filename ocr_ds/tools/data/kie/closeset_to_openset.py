"""WildReceipt's close-set KIE annotations -> open-set ones (MMOCR 0.6.3's
``tools/data/kie/closeset_to_openset.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.kie.closeset_to_openset data/wildreceipt/train.txt \\
        data/wildreceipt/openset_train.txt [--merge] [--n_proc 10]

Each JSON line's ``annotations`` get open-set labels (0 background, 1 key, 2 value, 3 others;
``--merge``: others as background) and an ``edge`` linking a key to its value: close-set label
0 is ``ignore``, 25 ``others``, even labels 2..24 keys whose values are the odd labels 1..23
just below. The lines are written with UTF-8 text (``ensure_ascii=False``), as MMOCR writes
them. Differs: blank lines are skipped, a label outside 0..25 or a malformed line is a one-line
error with nothing written (MMOCR: a traceback, or for a label above 25 the key/value pairing
of the line's previous label).
"""
from __future__ import annotations

import json
from functools import partial
from typing import Any, Sequence

from ocr_ds.datasets.textdet.coco_convert import map_images, write_outputs
from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.tools.data.textrecog._common import label_file_lines, lines_text

IGNORE_IDX, OTHERS_IDX = 0, 25


def convert(closeset_obj: dict[str, Any], merge_bg_others: bool = False) -> str:
    """MMOCR's ``convert`` of one decoded line (labels checked by ``read_lines``)."""
    key_inds = list(range(2, OTHERS_IDX, 2))
    value_inds = list(range(1, OTHERS_IDX, 2))
    mapping = {"bg": 0, "key": 1, "value": 2, "others": 3}
    if merge_bg_others:
        mapping["others"] = mapping["bg"]
    openset_obj = {"file_name": closeset_obj["file_name"], "height": closeset_obj["height"],
                   "width": closeset_obj["width"], "annotations": []}
    edge_idx = 1
    label_to_edge: dict[int, int] = {}
    for anno in closeset_obj["annotations"]:
        label = anno["label"]
        if label in (IGNORE_IDX, OTHERS_IDX):
            anno["label"] = mapping["bg" if label == IGNORE_IDX else "others"]
            anno["edge"] = edge_idx
            edge_idx += 1
        elif label in label_to_edge:
            anno["edge"] = label_to_edge[label]
            anno["label"] = mapping["key" if label in key_inds else "value"]
        else:
            is_key = label in key_inds
            counterpart = (value_inds[key_inds.index(label)] if is_key
                           else key_inds[value_inds.index(label)])
            if counterpart in label_to_edge:
                anno["edge"] = label_to_edge[counterpart]
            else:
                anno["edge"] = edge_idx
                edge_idx += 1
            anno["label"] = mapping["key" if is_key else "value"]
            label_to_edge[label] = anno["edge"]
    openset_obj["annotations"] = closeset_obj["annotations"]
    return json.dumps(openset_obj, ensure_ascii=False)


def read_lines(path: str) -> list[dict[str, Any]]:
    """The decoded JSON lines, each checked for what ``convert`` reads."""
    out = []
    for n, line in label_file_lines(path):
        try:
            obj = json.loads(line)
            for key in ("file_name", "height", "width"):
                obj[key]
            labels = [anno["label"] for anno in obj["annotations"]]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise UserError(f"{path}:{n}: expected a JSON object with file_name, height, width "
                            f"and annotations [{{..., \"label\": N}}, ...]") from None
        bad = [v for v in labels if isinstance(v, bool) or not isinstance(v, int)
               or not IGNORE_IDX <= v <= OTHERS_IDX]
        if bad:
            raise UserError(f"{path}:{n}: close-set label {bad[0]!r} is not one of WildReceipt's "
                            f"0..{OTHERS_IDX}")
        out.append(obj)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.kie.closeset_to_openset",
                  description="Convert WildReceipt's close-set KIE annotations to open-set ones")
    p.add_argument("in_file", help="Annotation file for closeset.")
    p.add_argument("out_file", help="Annotation file for openset.")
    p.add_argument("--merge", action="store_true",
                   help='Merge two classes: "background" and "others" in closeset to one class '
                        'in openset.')
    p.add_argument("--n_proc", type=int, default=10, help="Number of process (10).")
    args = p.parse_args(argv)
    lines = map_images(partial(convert, merge_bg_others=args.merge), read_lines(args.in_file),
                       args.n_proc)
    write_outputs({args.out_file: lines_text(lines)})
    print("finish")
    return 0


if __name__ == "__main__":
    run_cli(main)
