"""``python -m ocr_ds.tools.data.textdet.coco_to_line_dict`` against MMOCR 0.6.3's own script:
the same bytes from one COCO JSON with a repeated image id, an annotation of no listed image,
an image without annotations and non-ASCII names; bad input is one line, nothing written."""
import json
import os

import pytest

from ocr_ds.errors import UserError
from ocr_ds.tools.data.textdet import coco_to_line_dict
from parity import ref_file

REF = ref_file(__file__, "mmocr_converters.py")
COCO = {"images": [{"id": 1, "file_name": "training/img_1.jpg", "height": 20, "width": 30},
                   {"id": 7, "file_name": "training/bild_ä.jpg", "height": 5, "width": 8},
                   {"id": 3, "file_name": "training/empty.jpg", "height": 4, "width": 4},
                   {"id": 1, "file_name": "training/img_1_again.jpg", "height": 21,
                    "width": 31}],
        "annotations": [
            {"image_id": 7, "iscrowd": 0, "category_id": 1, "bbox": [1, 2, 3, 4],
             "segmentation": [[1, 2, 4, 2, 4, 6, 1, 6]], "area": 12, "id": 1},
            {"image_id": 1, "iscrowd": 1, "category_id": 1, "bbox": [0.5, 0, 2, 2],
             "segmentation": [[0.5, 0, 2.5, 0, 2.5, 2, 0.5, 2]], "text": "###"},
            {"image_id": 99, "iscrowd": 0, "category_id": 1, "bbox": [0, 0, 1, 1],
             "segmentation": [[0, 0, 1, 0, 1, 1, 0, 1]]},
            {"image_id": 7, "iscrowd": 0, "category_id": 2, "bbox": [5, 5, 1, 1],
             "segmentation": [[5, 5, 6, 5, 6, 6, 5, 6]]}],
        "categories": [{"id": 1, "name": "text"}]}


def test_same_bytes_as_mmocr(tmp_path, mmocr_ref):
    src = tmp_path / "instances_training.json"
    src.write_text(json.dumps(COCO, ensure_ascii=False), encoding="utf-8")
    theirs, ours = tmp_path / "theirs.txt", tmp_path / "sub" / "ours.txt"
    assert mmocr_ref.call(REF, "run_scripts", runs=[(
        "textdet/coco_to_line_dict.py", ["--in-path", str(src), "--out-path", str(theirs)])]
    ) == [None]
    assert coco_to_line_dict.main(["--in-path", str(src), "--out-path", str(ours)]) == 0
    assert ours.read_bytes() == theirs.read_bytes()
    lines = [json.loads(line) for line in ours.read_text().splitlines()]
    assert [line["file_name"] for line in lines] == [
        "training/img_1_again.jpg", "training/bild_ä.jpg", "training/empty.jpg"]
    assert [len(line["annotations"]) for line in lines] == [1, 2, 0]


@pytest.mark.parametrize("content,message", [
    (None, "COCO JSON not found"),
    ("{", "not a valid JSON COCO JSON"),
    (json.dumps({"images": [{"id": 1}], "annotations": []}), "missing 'file_name'"),
    (json.dumps({"images": [], "annotations": [{"image_id": 1}]}), "missing 'iscrowd'"),
    (json.dumps([1, 2]), "not a COCO-style JSON")])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, content, message):
    src = tmp_path / "in.json"
    if content is not None:
        src.write_text(content)
    with pytest.raises(UserError, match=message):
        coco_to_line_dict.main(["--in-path", str(src), "--out-path", str(tmp_path / "o.txt")])
    assert not os.path.exists(tmp_path / "o.txt")
