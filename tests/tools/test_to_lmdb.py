"""to_lmdb: byte-exact recognition and detection lmdbs, atomic output, one-line errors."""
import json
import os
import subprocess
import sys

import cv2
import lmdb
import numpy as np
import pytest

from ocr_ds.errors import run_cli
from ocr_ds.tools import _lmdb_writer, gen_det_data, gen_recog_data, to_lmdb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def items(path):
    env = lmdb.open(str(path), readonly=True, lock=False)
    with env.begin() as txn:
        out = {bytes(k): bytes(v) for k, v in txn.cursor()}
    env.close()
    return out


def cli(argv, capsys):
    """Run the tool's main as ``python -m`` does; returns (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: to_lmdb.main([str(a) for a in argv]))
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def png(value, size=(12, 20)):
    return cv2.imencode(".png", np.full(size, value, np.uint8))[1].tobytes()


@pytest.fixture(scope="module")
def recog(tmp_path_factory):
    root = tmp_path_factory.mktemp("recog")
    gen_recog_data.generate(str(root), num_train=14, num_test=0, seed=1, write_lmdb=False)
    return root


@pytest.fixture(scope="module")
def det(tmp_path_factory):
    root = tmp_path_factory.mktemp("det")
    gen_det_data.generate(str(root), num_train=3, num_test=2, seed=0, size=128)
    return root


def test_recog_txt_round_trip_is_byte_identical(recog, tmp_path, capsys):
    out = tmp_path / "db"
    code, stdout, err = cli(["recog", recog / "train_label.txt", out, "--img-root",
                             recog / "train", "--batch-size", "4", "--progress", "5"], capsys)
    assert code == 0, err
    assert stdout.startswith(f"wrote 14 samples (labels + images) to {out}\n")
    assert "LoadImageFromLMDB" in stdout and f"ann_file='{out}'" in stdout
    assert err.splitlines() == ["to_lmdb: 5 samples", "to_lmdb: 10 samples"]
    lines = (recog / "train_label.txt").read_text().splitlines()
    got = items(out)
    assert len(got) == 2 * 14 + 1 and got[b"num-samples"] == b"14"
    for i, line in enumerate(lines, 1):
        name, text = line.split(" ")
        assert got[f"label-{i:09d}".encode()] == text.encode()
        assert got[f"image-{i:09d}".encode()] == (recog / "train" / name).read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["db"]  # no temporary directory left
    assert oct(os.stat(out).st_mode & 0o777) != oct(0o700)  # not mkdtemp's private mode


def test_the_generator_writes_the_same_lmdb_as_the_tool(recog, tmp_path):
    gen_recog_data.generate(str(tmp_path / "g"), num_train=14, num_test=0, seed=1)
    to_lmdb.convert_recog(str(recog / "train_label.txt"), str(tmp_path / "t"),
                          str(recog / "train"))
    assert items(tmp_path / "g" / "train_lmdb") == items(tmp_path / "t")


def test_jsonl_labels_with_spaces_and_label_only(tmp_path, capsys):
    (tmp_path / "imgs").mkdir()
    rows = [("a.png", "New York"), ("sub/b.png", "caf\u00e9 \u00fcber"), ("c.png", "x")]
    (tmp_path / "imgs" / "sub").mkdir()
    for i, (name, _) in enumerate(rows):
        (tmp_path / "imgs" / name).write_bytes(png(i * 50))
    ann = tmp_path / "labels.jsonl"
    ann.write_text("\n".join(json.dumps(dict(filename=n, text=t)) for n, t in rows) + "\n\n",
                   encoding="utf-8")
    code, _, err = cli(["recog", ann, tmp_path / "full", "--img-root", tmp_path / "imgs"], capsys)
    assert code == 0, err
    full = items(tmp_path / "full")
    assert full[b"num-samples"] == b"3"
    assert [full[f"label-{i:09d}".encode()].decode() for i in (1, 2, 3)] == [t for _, t in rows]
    assert full[b"image-000000002"] == (tmp_path / "imgs/sub/b.png").read_bytes()

    code, stdout, err = cli(["recog", ann, tmp_path / "labels", "--label-only"], capsys)
    assert code == 0, err
    assert "LineJsonParser" in stdout and "LoadImageFromFile" in stdout
    only = items(tmp_path / "labels")
    assert set(only) == {b"num-samples", b"label-000000001", b"label-000000002",
                         b"label-000000003"}  # MMOCR's label-only layout: JSON lines
    assert json.loads(only[b"label-000000002"]) == {"filename": "sub/b.png",
                                                     "text": "caf\u00e9 \u00fcber"}
    assert "caf\u00e9".encode() in only[b"label-000000002"]  # ensure_ascii=False, as MMOCR


def test_tab_separated_txt(tmp_path, capsys):
    (tmp_path / "a.png").write_bytes(png(1))
    ann = tmp_path / "l.txt"
    ann.write_text("a.png\tNew York\n")
    code, _, err = cli(["recog", ann, tmp_path / "db", "--img-root", tmp_path,
                        "--separator", "\t"], capsys)
    assert code == 0, err
    assert items(tmp_path / "db")[b"label-000000001"] == b"New York"


def test_mmocr_flags_encoding_map_size_and_short_forms(tmp_path, capsys):
    """MMOCR's lmdb_converter flags: a GBK label file read with -e gbk (labels stored as UTF-8,
    what the loaders read), -m the initial map size, -i/-f/-b MMOCR's short forms."""
    (tmp_path / "a.png").write_bytes(png(1))
    ann = tmp_path / "l.txt"
    ann.write_bytes("a.png \u5317\u4eac\n".encode("gbk"))
    code, _, err = cli(["recog", ann, tmp_path / "db", "-i", tmp_path, "-f", "txt", "-b", "1",
                        "-e", "gbk", "-m", str(1 << 22)], capsys)
    assert code == 0, err
    assert items(tmp_path / "db")[b"label-000000001"] == "\u5317\u4eac".encode("utf-8")
    code, _, err = cli(["recog", ann, tmp_path / "db2", "-i", tmp_path], capsys)
    assert code == 2 and err.startswith(f"error: {ann}: not UTF-8 (") and \
        err.endswith("give its encoding with --encoding\n")
    code, _, err = cli(["recog", ann, tmp_path / "db3", "-i", tmp_path, "-e", "klingon"], capsys)
    assert (code, err) == (2, "error: --encoding: unknown encoding 'klingon'\n")
    code, _, err = cli(["recog", ann, tmp_path / "db4", "-i", tmp_path, "-m", "0"], capsys)
    assert (code, err) == (2, "error: --lmdb-map-size: expected a positive number of bytes "
                              "(got 0)\n")
    assert not any((tmp_path / d).exists() for d in ("db2", "db3", "db4"))


def test_det_round_trip_is_byte_identical_keyed_by_file_name(det, tmp_path, capsys):
    anns = [det / "instances_training.json", det / "instances_test.json"]
    out = tmp_path / "imgs_lmdb"
    code, stdout, err = cli(["det", *anns, out, "--img-root", det / "imgs", "--batch-size", "2"],
                            capsys)
    assert code == 0, err
    assert stdout.startswith(f"wrote 5 samples (images) to {out}\n")
    assert f"file_client_args=dict(backend='lmdb', db_path='{out}')" in stdout
    names = [img["file_name"] for a in anns for img in json.loads(a.read_text())["images"]]
    assert names[0] == "training/img_1.jpg" and len(names) == 5
    got = items(out)
    assert set(got) == {n.encode() for n in names}
    for name in names:
        assert got[name.encode()] == (det / "imgs" / name).read_bytes()
    # the generator's --lmdb copy is the same
    gen_det_data.generate(str(tmp_path / "g"), num_train=3, num_test=2, seed=0, size=128,
                          write_lmdb=True)
    assert items(tmp_path / "g" / "imgs_lmdb") == got
    meta = json.loads((tmp_path / "g" / "meta.json").read_text())
    assert meta["write_lmdb"] is True
    assert "write_lmdb" not in json.loads((det / "meta.json").read_text())  # old data stays current


def test_the_map_grows_and_batches_commit(tmp_path):
    values = [os.urandom(10_000) for _ in range(100)]
    with _lmdb_writer.LmdbWriter(str(tmp_path / "db"), batch_size=7, map_size=64 << 10) as writer:
        for i, v in enumerate(values):
            writer.add((f"k{i:03d}".encode(), v))
    assert writer.map_size >= 1 << 20  # 1 MB of values in a 64 KiB map: it doubled
    got = items(tmp_path / "db")
    assert [got[f"k{i:03d}".encode()] for i in range(100)] == values


def test_overwrite_replaces_only_a_complete_output(recog, tmp_path, capsys):
    out = tmp_path / "db"
    args = ["recog", recog / "train_label.txt", out, "--img-root", recog / "train"]
    assert cli(args, capsys)[0] == 0
    before = items(out)
    code, _, err = cli(args, capsys)
    assert code == 2
    assert err == f"error: output {out} exists and is not empty; pass --overwrite to replace it\n"
    # an overwrite that fails keeps the old lmdb as it was
    bad = tmp_path / "bad.txt"
    bad.write_text("word_000000.jpg abc\nmissing.jpg abc\n")
    code, _, err = cli(["recog", bad, out, "--img-root", recog / "train", "--overwrite"], capsys)
    assert code == 2 and "missing.jpg" in err
    assert items(out) == before
    assert sorted(os.listdir(tmp_path)) == ["bad.txt", "db"]
    code, _, _ = cli(["recog", bad, out, "--img-root", recog / "train", "--overwrite",
                      "--skip-invalid"], capsys)
    assert code == 0
    assert items(out)[b"num-samples"] == b"1"
    assert sorted(os.listdir(tmp_path)) == ["bad.txt", "db"]
    (tmp_path / "empty").mkdir()  # an empty directory is not "existing data"
    assert cli(["recog", bad, tmp_path / "empty", "--label-only"], capsys)[0] == 0


def test_skip_invalid_keeps_indices_contiguous(recog, tmp_path, capsys):
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    (tmp_path / "ok.png").write_bytes(png(9))
    ann = tmp_path / "l.txt"
    ann.write_text("gone.png a\nok.png b\nbroken.jpg c\nok.png d\n")
    code, stdout, err = cli(["recog", ann, tmp_path / "db", "--img-root", tmp_path,
                             "--skip-invalid"], capsys)
    assert code == 0, err
    assert "wrote 2 samples (labels + images)" in stdout and "(2 skipped)" in stdout
    got = items(tmp_path / "db")
    assert got[b"num-samples"] == b"2"
    assert (got[b"label-000000001"], got[b"label-000000002"]) == (b"b", b"d")
    code, _, err = cli(["recog", ann, tmp_path / "db2", "--img-root", tmp_path,
                        "--skip-invalid", "--no-verify"], capsys)
    assert items(tmp_path / "db2")[b"num-samples"] == b"3"  # unverified: stored as is


def test_interrupt_leaves_nothing(recog, tmp_path, monkeypatch):
    calls = []
    real = to_lmdb._read_image

    def interrupted(path, verify):
        calls.append(path)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return real(path, verify)

    monkeypatch.setattr(to_lmdb, "_read_image", interrupted)
    with pytest.raises(KeyboardInterrupt):
        to_lmdb.convert_recog(str(recog / "train_label.txt"), str(tmp_path / "db"),
                              str(recog / "train"), batch_size=2)  # two batches committed
    assert os.listdir(tmp_path) == []


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


RECOG_ERRORS = [
    ("missing label file", lambda d: ["nope.txt", "--img-root", d],
     "error: label file not found: {d}/nope.txt"),
    ("unknown format", lambda d: [_write(d / "l.csv", "a.png x\n"), "--img-root", d],
     "error: {d}/l.csv: cannot tell the label format from the extension '.csv'; pass "
     "--label-format txt or jsonl"),
    ("three fields", lambda d: [_write(d / "l.txt", "a.png x\na.png New York\n"), "--img-root", d],
     "error: {d}/l.txt:2: expected 'FILENAME TEXT' (2 fields separated by ' '), got 3 "
     "field(s): 'a.png New York'; texts holding the separator need a jsonl label file"),
    ("bad json", lambda d: [_write(d / "l.jsonl", '{"filename": "a.png"\n'), "--img-root", d],
     "error: {d}/l.jsonl:1: not JSON (Expecting ',' delimiter)"),
    ("json without text", lambda d: [_write(d / "l.jsonl", '{"filename": "a.png"}\n'),
                                     "--img-root", d],
     "error: {d}/l.jsonl:1: expected an object with string 'filename' and 'text' "
     "(got '{{\"filename\": \"a.png\"}}')"),
    ("missing image", lambda d: [_write(d / "l.txt", "a.png x\n\nb.png y\n"), "--img-root", d],
     "error: {d}/l.txt:3: image not found: {d}/b.png (pass --skip-invalid to leave such "
     "samples out)"),
    ("undecodable image", lambda d: [_write(d / "l.txt", "c.png x\n"), "--img-root", d],
     "error: {d}/l.txt:1: image cannot be decoded (3 bytes): {d}/c.png (pass --skip-invalid "
     "to leave such samples out)"),
    ("no img root", lambda d: [_write(d / "l.txt", "a.png x\n")],
     "error: --img-root: needed to read the images (or pass --label-only)"),
    ("empty", lambda d: [_write(d / "l.txt", "\n\n"), "--img-root", d],
     "error: {d}/l.txt: no samples to write"),
]


@pytest.mark.parametrize("case", RECOG_ERRORS, ids=[c[0] for c in RECOG_ERRORS])
def test_recog_bad_input_is_one_line_and_leaves_nothing(case, tmp_path, capsys):
    _, make_args, expected = case
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.png").write_bytes(png(3))
    (data / "c.png").write_bytes(b"bad")
    args = make_args(data)
    args = [data / args[0] if isinstance(args[0], str) else args[0], *args[1:]]
    before = sorted(os.listdir(tmp_path))
    code, stdout, err = cli(["recog", args[0], tmp_path / "out", *args[1:]], capsys)
    assert (code, stdout) == (2, "")
    assert err == expected.format(d=data) + "\n"
    assert sorted(os.listdir(tmp_path)) == before  # no output, no temporary directory


def test_det_bad_input(det, tmp_path, capsys):
    broken = _write(tmp_path / "broken.json", '{"images": [{"id": 1}]}')
    code, _, err = cli(["det", broken, tmp_path / "o", "--img-root", det / "imgs"], capsys)
    assert (code, err) == (2, f"error: {broken}: images[0]: expected a dict with id, file_name "
                              "(missing file_name)\n")
    missing = _write(tmp_path / "m.json", json.dumps({"images": [
        {"id": 1, "file_name": "training/img_1.jpg"}, {"id": 2, "file_name": "training/x.jpg"}]}))
    code, _, err = cli(["det", missing, tmp_path / "o", "--img-root", det / "imgs"], capsys)
    assert (code, err) == (2, f"error: file_name 'training/x.jpg': image not found: "
                              f"{det}/imgs/training/x.jpg (pass --skip-invalid to leave such "
                              "images out)\n")
    not_json = _write(tmp_path / "n.json", "{")
    code, _, err = cli(["det", not_json, tmp_path / "o", "--img-root", det / "imgs"], capsys)
    assert code == 2 and err.startswith(f"error: {not_json}: not valid JSON")
    code, _, err = cli(["det", missing, tmp_path / "o", "--img-root", tmp_path / "nodir"], capsys)
    assert (code, err) == (2, f"error: --img-root: directory not found: {tmp_path}/nodir\n")
    assert sorted(os.listdir(tmp_path)) == ["broken.json", "m.json", "n.json"]
    # an output that holds the inputs is never replaced
    code, _, err = cli(["det", det / "instances_test.json", det, "--img-root", det / "imgs",
                        "--overwrite"], capsys)
    assert (code, err) == (2, f"error: output {det} holds the input "
                              f"{det}/instances_test.json; choose another output\n")
    assert (det / "imgs").is_dir()


def test_command_line(recog, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    run = [sys.executable, "-m", "ocr_ds.tools.to_lmdb"]
    proc = subprocess.run([*run, "--help"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and "{recog,det}" in proc.stdout
    proc = subprocess.run([*run, "recog", str(recog / "train_label.txt"), str(tmp_path / "db"),
                           "--label-only"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("wrote 14 samples (labels)")
    proc = subprocess.run([*run, "recog", str(tmp_path / "no.txt"), str(tmp_path / "db2"),
                           "--label-only"], env=env, capture_output=True, text=True)
    assert (proc.returncode, proc.stderr) == (2, f"error: label file not found: "
                                                 f"{tmp_path}/no.txt\n")
