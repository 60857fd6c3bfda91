"""Suite-wide fixtures.

``mmocr_ref``: MMOCR 0.6.3's own code for the parity tests. ``mmocr_ref.call(REF_SIDE_FILE,
FUNC, **kwargs)`` runs ``FUNC`` of a ref-side module (a file that imports mmocr/mmdet/mmcv) in
the reference venv and returns its result; see ``tests/parity/README.md``. ``tests/parity`` is
put on ``sys.path``: tests import the comparisons with ``from parity import ...``. The venv is
built on first use (once per machine, cached outside the checkout); the tests that use it are
skipped, with the reason, only where PyPI cannot be reached to build it. ``mmocr_configs``: the
directory of MMOCR 0.6.3's own config files in that venv.

``demo_checkpoints``: the CRNN (ZeRO-3, 2 ranks) and DBNet demo checkpoints ``test.py`` is
tested on (tests/demo_checkpoints.py).
"""
from __future__ import annotations

import glob
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "parity"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import refenv  # noqa: E402


# what ocr_ds exports for its process group (launch.setup_env) when a test runs train.py's code
# in this process; left behind, every later subprocess would join "its" rendezvous on that port
DIST_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


# Under pytest-xdist (`make test`: TEST_WORKERS processes, `--dist loadscope
# --no-loadscope-reorder`) a group of tests runs on one worker, whole: by default a test file (its
# module fixtures are built once); the launcher tests (tests/cluster: machine-wide daemons and
# namespaces, whose lock a worker holds for its whole session) and the users of the demo
# checkpoints (a session fixture that trains them) form one group. Groups are queued longest
# first by a rough estimate (multi-process and launcher tests ~15 s, parity tests ~1 s, others
# ~0.05 s), so no worker is left alone with a long one at the end. (xdist's own `xdist_group`
# marks do nothing under pytest 9: xdist 3.8 renames `item._nodeid`, which pytest 9 no longer
# reads; so the scheduler below groups by node id.)
SHARED_GROUP = "cluster+demo"
DEMO_CHECKPOINT_FILES = ("tests/evaluate/test_test_py.py", "tests/cluster/test_slurm_test.py")


def xdist_scope(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return SHARED_GROUP if path.startswith("tests/cluster/") or path in DEMO_CHECKPOINT_FILES \
        else path


def _estimate(item) -> float:
    if item.get_closest_marker("slow") or item.get_closest_marker("cluster"):
        return 15.0
    return 1.0 if "mmocr_ref" in getattr(item, "fixturenames", ()) else 0.05


def pytest_collection_modifyitems(config, items):
    strays = sorted({item.nodeid.split("::", 1)[0] for item in items
                     if "demo_checkpoints" in getattr(item, "fixturenames", ())
                     and xdist_scope(item.nodeid) != SHARED_GROUP})
    if strays:  # each worker would train the demo checkpoints again
        raise pytest.UsageError(f"{', '.join(strays)} use demo_checkpoints: add them to "
                                "DEMO_CHECKPOINT_FILES in tests/conftest.py")
    weight: dict[str, float] = {}
    for item in items:
        group = xdist_scope(item.nodeid)
        weight[group] = weight.get(group, 0.0) + _estimate(item)
    items.sort(key=lambda item: -weight[xdist_scope(item.nodeid)])  # stable within a group


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadscope` with :func:`xdist_scope` as the scope."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return GroupScheduling(config, log)


@pytest.fixture(autouse=True)
def _restore_dist_env():
    before = {k: os.environ.get(k) for k in DIST_ENV}
    yield
    for k, v in before.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def one_thread():
    """Torch on one thread for the test, as the reference venv's side runs (two threads on a
    busy 2-core machine run small backward passes many times slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def mmocr_venv():
    """The MMOCR 0.6.3 reference venv (built once per machine); skips where PyPI is out of reach."""
    try:
        return refenv.ensure_venv()
    except refenv.Unavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def mmocr_ref(mmocr_venv):
    ref = refenv.Reference(mmocr_venv)
    yield ref
    ref.close()


@pytest.fixture(scope="session")
def mmocr_configs(mmocr_venv):
    """MMOCR 0.6.3's own config files (the reference venv's ``mmocr/.mim/configs``)."""
    (site,) = glob.glob(os.path.join(mmocr_venv, "lib", "python*", "site-packages"))
    return os.path.join(site, "mmocr", ".mim", "configs")


@pytest.fixture(scope="session")
def demo_checkpoints(tmp_path_factory):
    """Trained once per session on tiny data, with an exported and an MMOCR-format .pth."""
    from demo_checkpoints import make_demo_checkpoints

    return make_demo_checkpoints(tmp_path_factory.mktemp("demo"))
