"""The memcached file client against a real memcached server: read-through, keys, oversize items,
outages (one warning, disk reads), forked readers, ``--mc-config`` validation and training runs."""
from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import re
import subprocess
import sys
import time

import pytest

from ocr_ds import fileio, memcached_backend
from ocr_ds.datasets.pipelines.loading import LoadImageFromFile
from ocr_ds.errors import UserError
from ocr_ds.engine.dist import free_port
from ocr_ds.fileio import FileClient

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "configs", "_base_", "mc_config.py")
WARNING = re.compile(r"memcached 127\.0\.0\.1:\d+: unreachable \((\w+): .*\); reading images "
                     r"from disk, (trying it again every [\d.]+ s|not trying it again in this run)")


@pytest.fixture
def mc_log(tmp_path):
    """The ``ocr_ds`` logger's records at INFO and above, also from forked children (a file)."""
    log = logging.getLogger("ocr_ds")
    path = tmp_path / "ocr_ds.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    saved = log.level
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    yield lambda: path.read_text().splitlines()
    log.removeHandler(handler)
    handler.close()
    log.setLevel(saved)


def _files(tmp_path, sizes):
    out = []
    for i, size in enumerate(sizes):
        p = tmp_path / f"f{i}.bin"
        p.write_bytes(os.urandom(size))
        out.append(p)
    return out


def _warnings(lines):
    return [l for l in lines if l.startswith("WARNING") and "memcached" in l]


def test_read_through_stores_on_miss_and_hits_afterwards(memcached, tmp_path, monkeypatch, mc_log):
    server = memcached()
    a, b = _files(tmp_path, [1000, 5000])
    client = FileClient("memcached", servers=[server.address])
    assert client.get(a) == a.read_bytes() and client.get(b) == b.read_bytes()
    s = server.stats()
    assert (s["get_misses"], s["get_hits"], s["cmd_set"], s["curr_items"]) == (2, 0, 2, 2)
    monkeypatch.chdir(tmp_path)
    assert client.get("f0.bin") == a.read_bytes()  # a relative path: the same absolute path, key
    assert client.get(b) == b.read_bytes()
    s = server.stats()
    assert (s["get_misses"], s["get_hits"], s["cmd_set"]) == (2, 2, 2)
    # what is stored is the file's bytes, under prefix + sha256(absolute path)
    from pymemcache.client.base import Client

    key = client.client.key(a)
    assert re.fullmatch(r"ocr_ds:[0-9a-f]{64}", key)
    assert Client(("127.0.0.1", server.port)).get(key) == a.read_bytes()
    # a missing file raises FileNotFoundError as the other backends do, and stores nothing
    with pytest.raises(FileNotFoundError):
        client.get(tmp_path / "missing.jpg")
    assert server.stats()["cmd_set"] == 2
    (tmp_path / "t.txt").write_text("héllo", encoding="utf-8")
    assert client.get_text(tmp_path / "t.txt") == "héllo" == client.get_text(tmp_path / "t.txt")
    assert server.stats()["get_hits"] == 4  # 2 + the raw read of key + the second get_text
    assert _warnings(mc_log()) == []


def test_keys_are_safe_for_any_path(memcached, tmp_path):
    server = memcached()
    long_dir = tmp_path / ("d" * 200) / ("e" * 200)
    long_dir.mkdir(parents=True)
    paths = [tmp_path / "with space.jpg", tmp_path / "tab\there.jpg", tmp_path / "ünïcødé 文字.jpg",
             tmp_path / "new\nline.jpg", long_dir / "x.jpg"]
    assert len(os.fsencode(str(paths[-1]))) > 400
    for i, p in enumerate(paths):
        p.write_bytes(b"%d" % i * 100)
    client = FileClient("memcached", servers=[server.address], key_prefix="my-job/v2:")
    keys = [client.client.key(p) for p in paths]
    assert len(set(keys)) == len(paths)
    assert all(len(k) <= 250 and re.fullmatch(r"my-job/v2:[0-9a-f]{64}", k) for k in keys)
    for _ in range(2):
        assert [client.get(p) for p in paths] == [p.read_bytes() for p in paths]
    s = server.stats()
    assert (s["get_misses"], s["get_hits"], s["cmd_set"]) == (5, 5, 5)


def test_oversize_files_are_read_from_disk_and_not_stored(memcached, tmp_path, mc_log):
    server = memcached()  # memcached's default item size limit: 1 MiB
    limit = 1024 * 1024
    fits, too_big, huge = _files(tmp_path, [limit - 512, limit - 511, 3 * limit])
    client = FileClient("memcached", servers=[server.address])
    for _ in range(2):
        assert [client.get(p) for p in (fits, too_big, huge)] == \
            [p.read_bytes() for p in (fits, too_big, huge)]
    s = server.stats()
    assert (s["cmd_set"], s["get_hits"], s["get_misses"]) == (1, 1, 5)  # only `fits` stored
    # a smaller max_item_size is honoured too
    small = FileClient("memcached", servers=[server.address], max_item_size=4096, key_prefix="s:")
    (tmp_path / "small").mkdir()
    a, b = _files(tmp_path / "small", [4096 - 512, 4096])
    assert small.get(a) == a.read_bytes() and small.get(b) == b.read_bytes()
    assert server.stats()["cmd_set"] == 2  # a stored, b not
    assert _warnings(mc_log()) == []


def test_server_refusing_an_item_costs_one_warning_not_the_cache(memcached, tmp_path, mc_log):
    server = memcached(args=("-I", "1m"))
    client = FileClient("memcached", servers=[server.address], max_item_size=4 * 1024 * 1024)
    big1, big2, small = _files(tmp_path, [2 * 1024 * 1024, 3 * 1024 * 1024, 100])
    assert client.get(big1) == big1.read_bytes() and client.get(big2) == big2.read_bytes()
    assert client.get(small) == small.read_bytes() and client.get(small) == small.read_bytes()
    assert server.stats()["get_hits"] == 1  # the cache still works for what fits
    (line,) = [l for l in mc_log() if l.startswith("WARNING")]
    assert "refused to store a 2097152-byte file" in line and "max_item_size=4194304" in line


def test_server_down_at_start_one_warning_then_disk(tmp_path, mc_log):
    files = _files(tmp_path, [10, 20, 30])
    client = FileClient("memcached", servers=[f"127.0.0.1:{free_port()}"], retry_interval=None)
    for _ in range(3):
        assert [client.get(p) for p in files] == [p.read_bytes() for p in files]
    (line,) = _warnings(mc_log())
    m = WARNING.search(line)
    assert m and m.group(1) == "ConnectionRefusedError", line
    assert m.group(2) == "not trying it again in this run"
    with pytest.raises(FileNotFoundError):
        client.get(tmp_path / "missing.jpg")


def test_server_killed_between_reads_one_warning_then_disk(memcached, tmp_path, mc_log):
    server = memcached()
    files = _files(tmp_path, [100, 200, 300])
    client = FileClient("memcached", servers=[server.address])
    assert client.get(files[0]) == files[0].read_bytes()
    assert client.get(files[0]) == files[0].read_bytes()  # a hit, over a live connection
    server.kill()
    for _ in range(3):
        assert [client.get(p) for p in files] == [p.read_bytes() for p in files]
    (line,) = _warnings(mc_log())
    assert WARNING.search(line) and "trying it again every 60 s" in line, line


def test_retry_after_interval_uses_the_server_again(memcached, tmp_path, mc_log):
    server = memcached()
    (a,) = _files(tmp_path, [100])
    client = FileClient("memcached", servers=[server.address], retry_interval=0.5)
    client.get(a)
    server.kill()
    assert client.get(a) == a.read_bytes()  # the warning
    again = memcached(port=server.port)
    assert client.get(a) == a.read_bytes()  # within the interval: the cache is left alone
    assert again.stats()["cmd_get"] == 0
    time.sleep(0.6)
    assert client.get(a) == a.read_bytes() and client.get(a) == a.read_bytes()
    s = again.stats()
    assert (s["get_misses"], s["cmd_set"], s["get_hits"]) == (1, 1, 1)
    lines = mc_log()
    assert len(_warnings(lines)) == 1
    assert any(l.startswith("INFO") and "reachable again" in l for l in lines)
    again.kill()  # a second outage is a new one: a second warning
    client.get(a)
    assert len(_warnings(mc_log())) == 2


def _read_all(step, paths, results):
    for p in paths:
        out = step({"img_info": {"filename": os.path.basename(p)}, "img_prefix": os.path.dirname(p)})
        results.put((os.getpid(), out["img"].shape))


def test_forked_readers_connect_themselves_and_share_one_warning(memcached, tmp_path, mc_log):
    """The DataLoader case: the loader step is built in the parent, workers fork (every epoch)."""
    import cv2
    import numpy as np

    server = memcached()
    paths = []
    for i in range(4):
        paths.append(str(tmp_path / f"img{i}.png"))
        cv2.imwrite(paths[-1], np.full((8, 10 + i, 3), i, np.uint8))
    step = LoadImageFromFile(file_client_args=dict(backend="memcached", servers=[server.address]))
    _read_all(step, paths[:1], multiprocessing.Queue())  # the parent holds a live connection
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def epoch():
        procs = [ctx.Process(target=_read_all, args=(step, paths, queue)) for _ in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
            assert p.exitcode == 0
        return [queue.get(timeout=5) for _ in range(12)]

    got = epoch()
    assert sorted(shape for _, shape in got) == sorted(
        [(8, 10 + i, 3) for i in range(4)] * 3)
    s = server.stats()
    assert s["get_hits"] + s["get_misses"] == 13 and s["curr_items"] == 4
    assert s["total_connections"] >= 1 + 3  # each child opened its own connection
    server.kill()
    for _ in range(3):  # three "epochs" of three fresh workers each: one warning in all
        assert len(epoch()) == 12
    assert len(_warnings(mc_log())) == 1
    # the step pickles (spawned workers): no socket inside
    clone = pickle.loads(pickle.dumps(step))
    assert clone._clients[""].client.servers == [server.address]


@pytest.mark.parametrize("args,message", [
    (dict(servers="127.0.0.1:11211"),
     "file_client_args.servers: expected a list of 'host:port' strings (got '127.0.0.1:11211')"),
    (dict(servers=["127.0.0.1"]), "expected a list of 'host:port' strings (got ['127.0.0.1'])"),
    (dict(servers=["h:99999"]), "file_client_args.servers"),
    (dict(), "file_client_args.servers: expected a list of 'host:port' strings (got None)"),
    (dict(servers=["h:1"], sever=1), "file_client_args: unknown key 'sever' for backend 'memcached'"),
    (dict(servers=["h:1"], server_list_cfg="/mnt/lustre/share/memcached_client/server_list.conf"),
     "file_client_args.server_list_cfg: mmcv's memcached backend"),
    (dict(servers=["h:1"], key_prefix="my job"), "file_client_args.key_prefix"),
    (dict(servers=["h:1"], max_item_size="1m"), "file_client_args.max_item_size"),
    (dict(servers=["h:1"], timeout=0), "file_client_args.timeout: expected a number of seconds > 0"),
    (dict(servers=["h:1"], expire=-1), "file_client_args.expire"),
    (dict(servers=["h:1"], retry_interval="never"), "file_client_args.retry_interval"),
])
def test_bad_args_are_one_line_user_errors(args, message):
    with pytest.raises(UserError) as err:
        FileClient("memcached", **args)
    assert message in str(err.value) and "\n" not in str(err.value)
    # the loading step checks them when the pipeline is built, not at the first read
    with pytest.raises(UserError):
        LoadImageFromFile(file_client_args=dict(backend="memcached", **args))


# --mc-config's bad-input cases live in tests/cli/test_bad_input_matrix.py (one table).


def test_example_mc_config_is_valid_and_in_the_readme():
    from ocr_ds.config import Config

    spec = Config.fromfile(EXAMPLE)["mc_file_client_args"].to_dict()
    assert spec["backend"] == "memcached" and spec["servers"] == ["127.0.0.1:11211"]
    backend = FileClient(**spec).client
    assert set(spec) - {"backend"} == set(fileio.MemcachedBackend.KEYS)  # every key shown
    assert backend.max_item_size == memcached_backend.MC_DEFAULT_ITEM_SIZE
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    with open(EXAMPLE, encoding="utf-8") as f:
        assert f.read().strip() in readme


# ---- training through --mc-config (real train.py runs) ----------------------------------------
CRNN = os.path.join(ROOT, "configs", "textrecog", "crnn", "crnn_synth_cpu.py")
N_TRAIN = 16


@pytest.fixture
def crnn_run(tmp_path):
    """(argv for a small CRNN run on N_TRAIN generated crops, the mc config path to fill)."""
    from ocr_ds.tools.gen_recog_data import generate

    data = tmp_path / "data"
    generate(str(data), num_train=N_TRAIN, num_test=2, seed=0, write_lmdb=False)
    mc = tmp_path / "mc.py"

    def argv(work_dir, server, epochs, workers=2):
        mc.write_text(f"mc_file_client_args = dict(backend='memcached', servers=['{server}'])\n")
        return [CRNN, "--work-dir", str(work_dir), "--seed", "0", "--no-validate",
                "--mc-config", str(mc), "--cfg-options", "synth_data=None",
                f"data.train.datasets.0.img_prefix={data}/train",
                f"data.train.datasets.0.ann_file={data}/train_label.txt",
                "data.samples_per_gpu=4", f"data.workers_per_gpu={workers}",
                f"runner.max_epochs={epochs}", "lr_config.warmup_iters=2", "log_config.interval=1"]
    return argv


@pytest.mark.slow
def test_training_reads_through_the_cache_misses_then_hits(memcached, crnn_run, tmp_path):
    import helpers

    server = memcached()
    wd = tmp_path / "wd"
    argv = crnn_run(wd, server.address, epochs=2)
    subprocess.run([sys.executable, helpers.TRAIN, *argv], cwd=ROOT, env=helpers.env(),
                   check=True, capture_output=True, timeout=300)
    s = server.stats()
    # every crop is asked for once per epoch, plus once by the start-up check that loads one
    # sample of the training set before the work dir is made; each key's first request is a
    # miss, so N misses and N + 1 hits means: all misses by the end of epoch 1 (and stored),
    # all hits in epoch 2
    assert (s["get_misses"], s["get_hits"], s["cmd_set"], s["curr_items"]) == \
        (N_TRAIN, N_TRAIN + 1, N_TRAIN, N_TRAIN)
    log = helpers.text_log(str(wd))
    assert "Epoch [2][4/4]" in log and f"servers=['{server.address}']" in log  # injected
    assert not [l for l in log.splitlines() if " - WARNING - " in l]


@pytest.mark.slow
@pytest.mark.parametrize("persistent", [False, True], ids=["fresh-workers", "persistent-workers"])
def test_server_killed_mid_training_one_warning_and_training_goes_on(memcached, crnn_run,
                                                                     tmp_path, persistent):
    """Fresh workers (every epoch) find the server gone when they connect; persistent ones lose
    the connection they used in epoch 1. Either way: one warning, all epochs, exit 0."""
    import helpers

    server = memcached()
    wd = tmp_path / "wd"
    argv = crnn_run(wd, server.address, epochs=4) + [f"data.persistent_workers={persistent}"]
    proc = subprocess.Popen([sys.executable, helpers.TRAIN, *argv], cwd=ROOT, env=helpers.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240
        while server.stats()["get_misses"] < N_TRAIN:  # epoch 1 has read every crop
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0]
            time.sleep(0.02)
        server.kill()  # new DataLoader workers for epochs 2 and 3 meet a dead server
        out, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out[-4000:]
    log = helpers.text_log(str(wd))
    warnings = [l for l in log.splitlines() if " - WARNING - " in l]
    assert len(warnings) == 1 and WARNING.search(warnings[0]), warnings
    assert "Epoch [4][4/4]" in log and os.path.isdir(wd / "epoch_4")


def test_benchmark_processing_fills_the_cache(memcached, crnn_run, tmp_path, monkeypatch):
    """``python -m ocr_ds.tools.benchmark_processing CONFIG --mc-config MC`` (MMOCR's tool, which
    its docstring says also refreshes the cache): one pass stores every training image, and
    says how fast the pipeline ran."""
    server = memcached()
    argv = crnn_run(tmp_path / "unused", server.address, epochs=1, workers=0)
    keep = argv[argv.index("--mc-config"):]
    keep[keep.index("data.samples_per_gpu=4")] = "data.samples_per_gpu=2"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "ocr_ds.tools.benchmark_processing", CRNN,
                           *keep], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"{N_TRAIN - 10} samples after 5 warm-up batches of 2: " in proc.stderr
    s = server.stats()
    assert (s["get_misses"], s["cmd_set"], s["curr_items"]) == (N_TRAIN, N_TRAIN, N_TRAIN)
    too_few = subprocess.run([sys.executable, "-m", "ocr_ds.tools.benchmark_processing", CRNN,
                              *keep[2:], "data.samples_per_gpu=4"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
    assert too_few.returncode == 2 and too_few.stderr == (
        f"error: data.train: {N_TRAIN} samples are no more than the 5 warm-up batches of 4; "
        "nothing left to time\n")
