"""``torchvision://NAME`` against mmcv 1.7.2's own loader: the same URL for every name (mmcv's
table of torchvision 0.12's files, and the weight enums of an installed torchvision >= 0.13),
the same names refused, and the file that URL names is what loads, whatever else the cache
holds."""
import enum
import sys
import types

import pytest
import torch

from ocr_ds.errors import UserError
from ocr_ds.models.common import init
from ocr_ds.models.common.torchvision_urls import URLS, enum_urls, torchvision_url
from parity import ref_file

REF = ref_file(__file__, "mmocr_torchvision_urls.py")
KEY = "model.backbone.init_cfg"
NAMES = ["torchvision://resnet18", "torchvision://resnet50", "modelzoo://resnet50",
         "torchvision://VGG16_BN", "torchvision://shufflenetv2_x0.5",
         "torchvision://ResNet50_Weights.IMAGENET1K_V2", "torchvision://resnet50.default",
         "torchvision://resnet18.imagenet1k_v1", "torchvision://shufflenetv2_x1.5",
         "torchvision://resnet19", "torchvision://resnet50.imagenet1k_v9"]


class _Weights(enum.Enum):
    @property
    def url(self):
        return self.value[1]


def fake_torchvision(version, weights):
    """A torchvision module with the reference's weight enums (names, members, DEFAULT, URLs)
    and nothing else: our venv has no torchvision (its wheels here are CUDA builds)."""
    classes = {}
    for w in weights:
        cls = _Weights(w["cls"], [(name, (name, url)) for name, url in w["members"]])
        if w["default"] is not None:
            cls.DEFAULT = cls[w["default"]]
        classes[w["model"]] = cls
    models = types.ModuleType("torchvision.models")
    models.list_models = lambda module=None: list(classes)
    models.get_model_weights = lambda name: classes[name]
    tv = types.ModuleType("torchvision")
    tv.__version__, tv.models = version, models
    return tv


@pytest.fixture(scope="module")
def ref(mmocr_ref):
    return mmocr_ref.call(REF, "run", names=NAMES)


def test_the_same_url_as_mmcv_for_every_name(ref, monkeypatch):
    tv = fake_torchvision(ref["version"], ref["weights"])
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.models", tv.models)
    assert {**URLS, **enum_urls("torchvision://x.y", KEY)} == ref["table"]
    for name in NAMES:
        want = ref["urls"][name]
        if want is None or want.startswith("error"):      # None: mmcv fails in load_url
            with pytest.raises(UserError, match=rf"^{KEY}.checkpoint: .*{name}"):
                torchvision_url(name, KEY)
        else:
            assert torchvision_url(name, KEY) == want, name
    assert ref["urls"]["torchvision://resnet50"].endswith("/resnet50-0676ba61.pth")


def test_enum_names_without_torchvision(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)     # import fails
    assert torchvision_url("torchvision://resnet18", KEY).endswith("/resnet18-f37072fd.pth")
    with pytest.raises(UserError, match=r"^model.backbone.init_cfg.checkpoint: "
                                        r"'torchvision://resnet50.imagenet1k_v2' names "
                                        r"torchvision weights, which need torchvision"):
        torchvision_url("torchvision://resnet50.imagenet1k_v2", KEY)


def test_the_named_file_loads_not_another_of_the_same_model(tmp_path, monkeypatch):
    """The cache holds torchvision's V1 and V2 ResNet-50 weights: mmcv's torchvision://resnet50
    is V1 (``resnet50-0676ba61.pth``); a missing file is downloaded to the name mmcv uses."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    net = torch.nn.Linear(2, 2)
    for name, value in [("resnet50-0676ba61.pth", 1.0), ("resnet50-11ad3fa6.pth", 2.0)]:
        torch.save({"weight": torch.full((2, 2), value), "bias": torch.zeros(2)}, folder / name)
    init.load_pretrained(net, dict(type="Pretrained", checkpoint="torchvision://resnet50"), KEY)
    assert torch.equal(net.weight, torch.ones(2, 2))
    fetched = []

    def download(url, dst, **kwargs):
        fetched.append((url, dst))
        torch.save({"weight": torch.full((2, 2), 3.0), "bias": torch.zeros(2)}, dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", download)
    with pytest.warns(UserWarning, match="deprecated"):
        init.load_pretrained(net, dict(type="Pretrained", checkpoint="modelzoo://resnet18"),
                             KEY)
    assert fetched == [(URLS["resnet18"], str(folder / "resnet18-f37072fd.pth"))]
    assert torch.equal(net.weight, torch.full((2, 2), 3.0))
