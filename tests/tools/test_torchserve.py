"""TorchServe (MMOCR 0.6.3's ``tools/deployment/mmocr2torchserve.py``, ``mmocr_handler.py``,
``test_torchserve.py``): our archive holds what MMOCR's does; a real TorchServe serving our
archives answers every request as MMOCR's own handler answers on MMOCR's archive of the same
weights (and MMOCR's handler serves our archive alike); ``test_torchserve`` agrees with the
server, tells different weights apart and reports a server's errors in one line; bad input to
the archiver is one line and writes nothing.

The server needs Java (``tests/cluster/install.sh`` installs it): without it the served tests
skip, except under CI (env ``CI``), where they fail.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile

import cv2
import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.engine.dist import free_port
from ocr_ds.errors import UserError
from ocr_ds.tools.deployment import mmocr2torchserve
from parity import assert_close, ref_file
from test_ocr_tool import setup  # noqa: F401  (configs, weights, images)

REF = ref_file(__file__, "mmocr_torchserve.py")
pytestmark = pytest.mark.usefixtures("one_thread")
START_TIMEOUT = 180
NO_JAVA = "TorchServe needs Java (java not found): run tests/cluster/install.sh as root"


def _archive(setup, out, kind, *extra):  # noqa: F811
    assert mmocr2torchserve.main([setup[f"{kind}_config"], setup[f"{kind}_ckpt"],
                                  "--output-folder", str(out), *extra]) == 0
    return os.path.join(out, f"{os.path.basename(setup[f'{kind}_ckpt'])[:-4]}.mar")


@pytest.fixture(scope="module")
def crops(setup, tmp_path_factory):  # noqa: F811
    """Word crops of the fixture's first image, as files (the recogniser's requests)."""
    d = tmp_path_factory.mktemp("crops")
    img = cv2.imread(setup["images"][0])
    out = []
    for i, (y1, y2, x1, x2) in enumerate([(10, 31, 10, 71), (12, 33, 80, 141), (60, 81, 20, 111)]):
        cv2.imwrite(str(d / f"c{i}.png"), img[y1:y2, x1:x2])
        out.append(str(d / f"c{i}.png"))
    return out


@pytest.fixture(scope="module")
def stores(setup, tmp_path_factory):  # noqa: F811
    """Our archives (``ours/``) and MMOCR's (``theirs``, written by its own tool in the
    reference venv) of the fixture's detector and recogniser."""
    d = tmp_path_factory.mktemp("stores")
    ours = {k: _archive(setup, d / "ours", k) for k in ("det", "recog")}
    _archive(setup, d / "ours", "recog", "--model-name", "recog_b2")   # served with batches of 2
    return {"ours": ours, "dir": d}


@pytest.fixture(scope="module")
def theirs(setup, mmocr_ref, tmp_path_factory):  # noqa: F811
    """MMOCR's archives of the same configs and weights, by its own mmocr2torchserve."""
    d = tmp_path_factory.mktemp("theirs")
    return {k: mmocr_ref.call(REF, "archive", config=setup[f"{k}_config"],
                              checkpoint=setup[f"{k}_ckpt"], out_dir=str(d))
            for k in ("det", "recog")}


class Server:
    """``torchserve --foreground`` on free ports, with its own temp dir (its pid file, the
    workers' sockets), killed with its workers at the end: two can run at once."""

    def __init__(self, store, models, workdir, extra=""):
        self.ports = [free_port() for _ in range(5)]
        workdir.mkdir(exist_ok=True)
        (workdir / "config.properties").write_text(
            f"inference_address=http://127.0.0.1:{self.ports[0]}\n"
            f"management_address=http://127.0.0.1:{self.ports[1]}\n"
            f"metrics_address=http://127.0.0.1:{self.ports[2]}\n"
            f"grpc_inference_port={self.ports[3]}\ngrpc_management_port={self.ports[4]}\n"
            "default_workers_per_model=1\ndisable_token_authorization=true\n"
            f"vmargs=-Xmx512m -XX:+UseSerialGC -Djava.io.tmpdir={workdir}\n" + extra)
        exe = os.path.join(os.path.dirname(sys.executable), "torchserve")
        env = dict(os.environ, TMPDIR=str(workdir), OMP_NUM_THREADS="1",
                   PATH=f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '')}")
        self.log = open(workdir / "torchserve.log", "w+")
        self.proc = subprocess.Popen(
            [exe, "--start", "--foreground", "--ncs", "--disable-token-auth",
             "--model-store", str(store), "--ts-config", str(workdir / "config.properties"),
             "--models", *[f"{name}={mar}" for name, mar in models.items()]],
            cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.addr = f"127.0.0.1:{self.ports[0]}"
        deadline = time.monotonic() + START_TIMEOUT
        for name in models:
            while not self._ready(name):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    code, log = self.proc.poll(), self.tail()
                    self.stop()
                    pytest.fail(f"TorchServe did not serve {name} within {START_TIMEOUT} s "
                                f"(exit {code}); its log:\n{log}")
                time.sleep(0.5)

    def _ready(self, name):
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.ports[1]}/models/{name}", timeout=5) as r:
                workers = json.loads(r.read())[0].get("workers", [])
        except (OSError, ValueError):
            return False
        return any(w.get("status") == "READY" for w in workers)

    def tail(self):
        self.log.seek(0)
        return self.log.read()[-4000:]

    def post(self, name, data, content_type="application/octet-stream"):
        """(HTTP status, JSON answer) of a prediction request."""
        request = urllib.request.Request(f"http://{self.addr}/predictions/{name}", data=data,
                                         method="POST", headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        try:        # workers left in the group
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.log.close()


@pytest.fixture(scope="module")
def server(stores):
    if shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail(NO_JAVA)
        pytest.skip(NO_JAVA)
    batches = {"recog_b2": {"1.0": dict(marName="recog_b2.mar", minWorkers=1, maxWorkers=1,
                                        batchSize=2, maxBatchDelay=5000, responseTimeout=120)}}
    s = Server(stores["dir"] / "ours", {k: f"{k}.mar" for k in ("det", "recog", "recog_b2")},
               stores["dir"] / "server", f"models={json.dumps(batches)}\n")
    yield s
    s.stop()


def _contents(mar):
    """(file names, manifest, config dict, weights) of an archive."""
    with zipfile.ZipFile(mar) as z, tempfile.TemporaryDirectory() as d:
        names = sorted(z.namelist())
        manifest = json.loads(z.read("MAR-INF/MANIFEST.json"))
        z.extractall(d)
        weights = torch.load(os.path.join(d, manifest["model"]["serializedFile"]),
                             weights_only=True)
        config = Config.fromfile(os.path.join(d, "config.py")).to_dict()
    return names, manifest, config, weights


@pytest.mark.parametrize("kind", ["det", "recog"])
def test_archive_holds_what_mmocrs_holds(kind, stores, theirs):
    names, manifest, config, weights = _contents(stores["ours"][kind])
    t_names, t_manifest, t_config, t_weights = _contents(theirs[kind])
    assert names == t_names == sorted(["MAR-INF/MANIFEST.json", "config.py", "mmocr_handler.py",
                                       f"{kind}.pth"])
    assert manifest["model"] == t_manifest["model"] and manifest["runtime"] == "python"
    assert config == t_config
    assert weights["state_dict"].keys() == t_weights["state_dict"].keys()
    for k, v in t_weights["state_dict"].items():
        assert torch.equal(weights["state_dict"][k], v), k


def test_served_as_mmocrs_handler(setup, crops, stores, theirs, server, mmocr_ref):  # noqa: F811
    """Every request answered as MMOCR's handler answers on MMOCR's archive, and MMOCR's handler
    on our archive too (raw bytes and base64 bodies)."""
    requests = {"det": setup["images"], "recog": crops}
    for kind, paths in requests.items():
        served = []
        for path in paths:
            with open(path, "rb") as f:
                status, answer = server.post(kind, f.read())
            assert status == 200, answer
            served.append(answer)
        with open(paths[0], "rb") as f:     # a base64 body (MMOCR's handler decodes it)
            status, answer = server.post(kind, base64.b64encode(f.read()), "text/plain")
        assert status == 200 and answer == served[0]
        if kind == "det":
            assert sum(len(a["boundary_result"]) for a in served) > 2    # something to compare
        else:
            assert len({a["text"] for a in served}) == len(served)       # crop-dependent texts
        batches = [[p] for p in paths] + [[("b64", paths[0])]]
        for mar in (theirs[kind], stores["ours"][kind]):
            answers = [b[0] for b in mmocr_ref.call(REF, "serve", mar=mar, batches=batches)]
            # ours adds a recogniser's char_scores (README)
            assert_close([{k: v for k, v in a.items() if k != "char_scores"}
                          for a in served + served[:1]], answers,
                         what=f"{kind} served vs MMOCR's handler")


def test_batched_requests_read_together(setup, crops, server):  # noqa: F811
    """TorchServe's batching (``batchSize`` 2): two crops of different widths arrive together and
    are read as one batch, as ``model_inference`` reads them (MMOCR's handler asserts on two)."""
    from ocr_ds.apis import init_detector, model_inference

    answers = {}

    def send(i):
        with open(crops[i], "rb") as f:
            answers[i] = server.post("recog_b2", f.read())

    first = threading.Thread(target=send, args=(0,))
    first.start()
    time.sleep(0.5)
    send(2)
    first.join(timeout=180)
    model = init_detector(setup["recog_config"], setup["recog_ckpt"], device="cpu")
    together = model_inference(model, [cv2.imread(crops[0]), cv2.imread(crops[2])])
    # the narrow crop padded to the wide one's width reads differently than alone: the batch shows
    assert together[0]["text"] != model_inference(model, crops[0])["text"]
    assert [answers[0][0], answers[2][0]] == [200, 200]
    assert_close([answers[0][1], answers[2][1]], together, what="batched answers")


def test_not_an_image_is_one_line(server):
    status, answer = server.post("recog", b"not an image")
    assert status == 400
    assert answer["message"] == ("request 0 of the batch: expected an image file's bytes (or "
                                 "their base64 text) as the body; got 12 bytes that do not "
                                 "decode as an image")
    status, answer = server.post("det", b"")
    assert status == 400 and answer["message"].endswith("got no body")
    status, answer = server.post("det", b"no base64!", "text/plain")
    assert status == 400 and answer["message"].endswith(
        "got 10 characters of text that are no image's base64")


def _tool(*args):
    return subprocess.run([sys.executable, "-W", "ignore", "-m",
                           "ocr_ds.tools.deployment.test_torchserve", *args],
                          capture_output=True, text=True, timeout=300)


def test_test_torchserve_tool(setup, crops, server):  # noqa: F811
    addr = ["--inference-addr", server.addr, "--device", "cpu"]
    for image, kind in ((setup["images"][0], "det"), (crops[1], "recog")):
        out = _tool(image, setup[f"{kind}_config"], setup[f"{kind}_ckpt"], kind, *addr)
        assert out.returncode == 0, out.stderr
        assert out.stdout == "The outputs are same between PyTorch and TorchServe\n"
    # other weights than the served ones: a detector that finds nothing
    out = _tool(setup["images"][0], setup["det_config"], str(setup["dir"] / "det_none.pth"),
                "det", *addr)
    assert out.returncode == 1
    assert out.stdout.splitlines()[0] == "The outputs are different between PyTorch and TorchServe"
    assert out.stdout.splitlines()[1].startswith("first difference: ['boundary_result']: 0 items "
                                                 "here, ")
    out = _tool(setup["images"][0], setup["det_config"], setup["det_ckpt"], "nope", *addr)
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (f"error: http://{server.addr}/predictions/nope: the server answered "
                          f"404: Model not found: nope\n")


def test_unreachable_server_is_one_line(setup):  # noqa: F811
    port = free_port()
    out = _tool(setup["images"][0], setup["det_config"], setup["det_ckpt"], "det",
                "--inference-addr", f"127.0.0.1:{port}", "--device", "cpu")
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr.startswith(f"error: --inference-addr: cannot reach http://127.0.0.1:{port}/"
                                 f"predictions/det (")
    assert out.stderr.endswith("is TorchServe running with the model registered?\n")


def test_archiver_bad_input_writes_nothing(setup, tmp_path, monkeypatch):  # noqa: F811
    out = tmp_path / "store"

    def archive(ckpt, *extra):
        return mmocr2torchserve.main([setup["det_config"], ckpt, "--output-folder", str(out),
                                      *extra])

    # another model's weights: refused before anything is written
    with pytest.raises(UserError, match=r"checkpoint .*recog\.pth: \d+ model tensors missing or "
                                        r"of another shape"):
        archive(setup["recog_ckpt"])
    assert not out.exists()
    mar = _archive(setup, out, "det", "--model-name", "det")
    first = open(mar, "rb").read()
    with pytest.raises(UserError, match=r"det\.mar already exists: -f/--force overwrites it"):
        archive(setup["det_ckpt"])
    assert archive(setup["det_ckpt"], "--model-version", "2.0", "-f") == 0
    assert open(mar, "rb").read() != first and sorted(os.listdir(out)) == ["det.mar"]
    assert _contents(mar)[1]["model"]["modelVersion"] == "2.0"
    monkeypatch.setitem(sys.modules, "model_archiver", None)
    with pytest.raises(UserError, match=r"^torch-model-archiver is not installed: pip install "
                                        r"'ocr_ds\[serve\]'"):
        archive(setup["det_ckpt"])


def test_first_difference():
    """test_torchserve's comparison: texts and keys exactly, numbers within numpy.allclose."""
    from ocr_ds.tools.deployment.test_torchserve import first_difference as diff

    assert diff({"text": "ab", "score": 0.5}, {"text": "ab", "score": 0.5 + 1e-9}) is None
    assert diff({"text": "ab", "score": 0.5}, {"text": "ab", "score": 0.51}) == \
        "['score']: 0.5 here, 0.51 served"
    assert diff({"text": "ab", "score": 0.5}, {"text": "ac", "score": 0.5}) == \
        "['text']: 'ab' here, 'ac' served"
    assert diff({"boundary_result": [[1.0, 2.0, 0.9]]}, {"boundary_result": [[1.0, 2.5, 0.9]]}) \
        == "['boundary_result'][0][1]: 2.0 here, 2.5 served"
    assert diff({"text": "a"}, {"text": "a", "x": 1}) == \
        "result: keys ['text'] here, ['text', 'x'] served"
    assert diff({"score": 1.0}, {"score": "1.0"}) == "['score']: 1.0 here, '1.0' served"
