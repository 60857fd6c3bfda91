"""Recognition annotation loaders and parsers: txt, JSON lines, lmdb with and without images."""
import json
import os
import pickle

import pytest

from ocr_ds import fileio
from ocr_ds.datasets.invalid import EMPTY_ANNOTATION, MALFORMED_ANNOTATION, InvalidSample
from ocr_ds.datasets.textrecog.loader import AnnFileLoader, HardDiskLoader, LmdbLoader
from ocr_ds.datasets.textrecog.parser import LineJsonParser, LineStrParser
from ocr_ds.errors import UserError
from ocr_ds.tools.to_lmdb import write_recog_lmdb

STR_PARSER = dict(type="LineStrParser", keys=["filename", "text"], keys_idx=[0, 1], separator=" ")
JSON_PARSER = dict(type="LineJsonParser", keys=["filename", "text"])


def test_line_str_parser():
    parser = LineStrParser()
    assert parser.parse("  a/b.jpg Hello \n") == {"filename": "a/b.jpg", "text": "Hello"}
    # MMOCR picks one field per key: text with the separator is cut at it
    assert parser.parse("a.jpg two words") == {"filename": "a.jpg", "text": "two"}
    # keys_idx chooses the fields (MMOCR's format with a box before the text)
    box = LineStrParser(keys=["filename", "x1", "text"], keys_idx=[0, 1, 9])
    assert box.parse("s.jpg 20 20 100 20 100 40 20 40 hello") == {
        "filename": "s.jpg", "x1": "20", "text": "hello"}
    assert LineStrParser(separator="\t").parse("a.jpg\thas space") == {
        "filename": "a.jpg", "text": "has space"}
    with pytest.raises(ValueError):
        parser.parse("only_a_filename.jpg")
    with pytest.raises(UserError):
        LineStrParser(keys=["filename"], keys_idx=[0, 1])


def test_line_json_parser():
    parser = LineJsonParser(keys=["filename", "text"])
    line = json.dumps({"filename": "a.jpg", "text": "two words", "extra": 1})
    assert parser.parse(line) == {"filename": "a.jpg", "text": "two words"}
    for bad in ('{"filename": "a.jpg"}', "not json", "[1, 2]"):
        with pytest.raises(ValueError):
            parser.parse(bad)


def test_txt_loader_with_repeat_and_bad_lines(tmp_path):
    ann = tmp_path / "label.txt"
    ann.write_text("\ufeffa.jpg hello\nb.jpg world\n\nc.jpg\n", encoding="utf-8")
    loader = AnnFileLoader(str(ann), parser=STR_PARSER, repeat=2)
    assert loader.num_annotations() == 4 and len(loader) == 8
    assert loader[0] == {"filename": "a.jpg", "text": "hello"}  # BOM stripped
    assert loader[5] == {"filename": "b.jpg", "text": "world"}  # 5 % 4 == 1
    with pytest.raises(InvalidSample) as blank:
        loader[2]
    assert blank.value.kind == EMPTY_ANNOTATION and blank.value.where == f"{ann}:3"
    with pytest.raises(InvalidSample) as short:
        loader[3]
    assert short.value.kind == MALFORMED_ANNOTATION and short.value.where == f"{ann}:4"
    with pytest.raises(IndexError):
        loader[8]
    assert isinstance(HardDiskLoader(str(ann), parser=STR_PARSER), AnnFileLoader)


def test_jsonl_loader(tmp_path):
    ann = tmp_path / "label.jsonl"
    ann.write_text(json.dumps({"filename": "a.jpg", "text": "a b"}) + "\n{broken\n")
    loader = AnnFileLoader(str(ann), parser=JSON_PARSER)
    assert loader[0] == {"filename": "a.jpg", "text": "a b"}
    with pytest.raises(InvalidSample) as exc:
        loader[1]
    assert exc.value.kind == MALFORMED_ANNOTATION and exc.value.where.endswith(":2")


def test_lmdb_loader_with_images(tmp_path):
    db = tmp_path / "db"
    write_recog_lmdb(str(db), ["hello", "world"], [b"img1", b"img2"])
    loader = AnnFileLoader(str(db), parser=JSON_PARSER, file_format="lmdb", repeat=3)
    assert loader.has_images and len(loader) == 6
    assert loader[0] == {"filename": "image-000000001", "text": "hello"}
    assert loader[4] == {"filename": "image-000000001", "text": "hello"}  # 4 % 2 == 0
    assert loader[1] == {"filename": "image-000000002", "text": "world"}
    assert loader.where(1) == f"{db}:label-000000002"


def test_lmdb_loader_labels_only_is_lazy_and_picklable(tmp_path):
    db = tmp_path / "db"
    lines = [json.dumps(dict(filename=f, text=t)) for f, t in (("a.jpg", "hello"),
                                                               ("b.jpg", "two words"))]
    write_recog_lmdb(str(db), lines + [""])
    loader = LmdbLoader(str(db), parser=JSON_PARSER)
    assert not loader.has_images and len(loader) == 3
    # the constructor keeps no environment open; the first read opens this process's one
    assert os.path.realpath(db) not in fileio._LMDB_ENVS
    assert loader[1] == {"filename": "b.jpg", "text": "two words"}
    assert os.path.realpath(db) in fileio._LMDB_ENVS
    payload = pickle.dumps(loader)  # as a spawned data-loader worker gets it
    assert b"Environment" not in payload
    clone = pickle.loads(payload)
    assert clone[0] == {"filename": "a.jpg", "text": "hello"}
    with pytest.raises(InvalidSample) as exc:
        clone[2]
    assert exc.value.kind == EMPTY_ANNOTATION
    fileio.close_lmdb_environment(db)


def write_mmocr_05_lmdb(path, lines):
    """What MMOCR 0.5's txt2lmdb wrote: the label file's lines under '0', '1', ...
    and 'total_number'."""
    import lmdb

    env = lmdb.open(str(path), map_size=1 << 20)
    with env.begin(write=True) as txn:
        for i, line in enumerate(lines):
            txn.put(str(i).encode(), line.encode())
        txn.put(b"total_number", str(len(lines)).encode())
    env.close()


def test_lmdb_of_mmocr_0_5(tmp_path):
    db = tmp_path / "old"
    write_mmocr_05_lmdb(db, ["a.jpg Moon", "b.jpg 32 64 [1,2]",
                             json.dumps(dict(filename="c.jpg", text="x y")), "d.jpg two words"])
    loader = AnnFileLoader(str(db), parser=JSON_PARSER, file_format="lmdb", repeat=1.5)
    assert len(loader) == 6 and not loader.has_images
    # two fields: filename and text (a trailing 'n' kept: MMOCR 0.6.3 strips '/n' there)
    assert loader[0] == {"filename": "a.jpg", "text": "Moon"}
    assert loader[4] == loader[0]  # repeat 1.5: int(4 * 1.5) indices, i % 4
    with pytest.raises(InvalidSample) as exc:  # four fields: no 'text' key, as in MMOCR
        loader[1]
    assert exc.value.where == f"{db}:1"
    assert loader[2] == {"filename": "c.jpg", "text": "x y"}  # other lines: to the parser
    with pytest.raises(InvalidSample):
        loader[3]
    four = AnnFileLoader(str(db), parser=dict(type="LineJsonParser",
                                              keys=["filename", "height", "annotations"]),
                         file_format="lmdb")
    assert four[1] == {"filename": "b.jpg", "height": "32", "annotations": "[1,2]"}


def test_loader_errors(tmp_path):
    with pytest.raises(UserError, match="file not found"):
        AnnFileLoader(str(tmp_path / "missing.txt"), parser=STR_PARSER)
    with pytest.raises(UserError, match="lmdb directory not found"):
        AnnFileLoader(str(tmp_path / "missing"), parser=JSON_PARSER, file_format="lmdb")
    with pytest.raises(UserError, match="an lmdb is read with LineJsonParser"):
        AnnFileLoader(str(tmp_path / "missing"), parser=STR_PARSER, file_format="lmdb")
    ann = tmp_path / "a.txt"
    ann.write_text("a.jpg x\n")
    with pytest.raises(UserError, match="loader.repeat"):
        AnnFileLoader(str(ann), parser=STR_PARSER, repeat=0)
    with pytest.raises(UserError, match="loader.file_format"):
        AnnFileLoader(str(ann), parser=STR_PARSER, file_format="csv")
    with pytest.raises(UserError, match="loader.parser.type"):
        AnnFileLoader(str(ann), parser=dict(type="NoSuchParser"))
