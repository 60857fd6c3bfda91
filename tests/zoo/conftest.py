import glob
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(scope="session")
def mmocr_configs():
    """MMOCR 0.6.3's own config files (the reference venv's ``mmocr/.mim/configs``)."""
    import refenv

    try:
        venv = refenv.ensure_venv()
    except refenv.Unavailable as exc:
        pytest.skip(str(exc))
    (site,) = glob.glob(os.path.join(venv, "lib", "python*", "site-packages"))
    return os.path.join(site, "mmocr", ".mim", "configs")
