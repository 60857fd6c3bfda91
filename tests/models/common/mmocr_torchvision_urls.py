"""Ref side of test_torchvision_urls.py: which URL mmcv 1.7.2's checkpoint loader fetches for a
``torchvision://`` / ``modelzoo://`` name (with the reference venv's torchvision 0.28)."""
import torchvision
from mmcv.runner import checkpoint as ck


def run(names):
    fetched = []

    def load_from_http(filename, map_location=None, model_dir=None):
        fetched.append(filename)
        return {}

    ck.load_from_http = load_from_http          # what load_from_torchvision calls
    urls = {}
    for name in names:
        try:
            ck.CheckpointLoader.load_checkpoint(name)
            urls[name] = fetched[-1]
        except Exception as exc:  # noqa: BLE001 -- the test compares which names fail
            urls[name] = f"error: {type(exc).__name__}"
    weights = []
    for model in torchvision.models.list_models(torchvision.models):
        cls = torchvision.models.get_model_weights(model)
        weights.append(dict(model=model, cls=cls.__name__,
                            default=cls.DEFAULT.name if hasattr(cls, "DEFAULT") else None,
                            members=[(w.name, w.url) for w in cls]))
    return dict(urls=urls, table=ck.get_torchvision_models(), weights=weights,
                version=torchvision.__version__)
