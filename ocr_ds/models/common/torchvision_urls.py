"""Where ``torchvision://NAME`` checkpoints come from, as mmcv 1.7's ``load_from_torchvision``.

``URLS`` is mmcv 1.7.2's ``model_zoo/torchvision_0.12.json`` (torchvision 0.12's ``model_urls``,
the names ``torchvision://resnet50`` means in MMOCR 0.6.3's configs), entry for entry. Names with
a dot (``resnet50.imagenet1k_v2``, ``ResNet50_Weights.IMAGENET1K_V2``, ``resnet50.default``) are
torchvision >= 0.13's weight enums, looked up in the installed torchvision as mmcv does.
"""
from __future__ import annotations

from ocr_ds.errors import UserError

_PT = "https://download.pytorch.org/models/"

URLS: dict[str, str | None] = {
    "alexnet": _PT + "alexnet-owt-7be5be79.pth",
    "densenet121": _PT + "densenet121-a639ec97.pth",
    "densenet169": _PT + "densenet169-b2777c0a.pth",
    "densenet201": _PT + "densenet201-c1103571.pth",
    "densenet161": _PT + "densenet161-8d451a50.pth",
    "efficientnet_b0": _PT + "efficientnet_b0_rwightman-3dd342df.pth",
    "efficientnet_b1": _PT + "efficientnet_b1_rwightman-533bc792.pth",
    "efficientnet_b2": _PT + "efficientnet_b2_rwightman-bcdf34b7.pth",
    "efficientnet_b3": _PT + "efficientnet_b3_rwightman-cf984f9c.pth",
    "efficientnet_b4": _PT + "efficientnet_b4_rwightman-7eb33cd5.pth",
    "efficientnet_b5": _PT + "efficientnet_b5_lukemelas-b6417697.pth",
    "efficientnet_b6": _PT + "efficientnet_b6_lukemelas-c76e70fd.pth",
    "efficientnet_b7": _PT + "efficientnet_b7_lukemelas-dcc49843.pth",
    "googlenet": _PT + "googlenet-1378be20.pth",
    "inception_v3_google": _PT + "inception_v3_google-0cc3c7bd.pth",
    "mobilenet_v2": _PT + "mobilenet_v2-b0353104.pth",
    "mobilenet_v3_large": _PT + "mobilenet_v3_large-8738ca79.pth",
    "mobilenet_v3_small": _PT + "mobilenet_v3_small-047dcff4.pth",
    "regnet_y_400mf": _PT + "regnet_y_400mf-c65dace8.pth",
    "regnet_y_800mf": _PT + "regnet_y_800mf-1b27b58c.pth",
    "regnet_y_1_6gf": _PT + "regnet_y_1_6gf-b11a554e.pth",
    "regnet_y_3_2gf": _PT + "regnet_y_3_2gf-b5a9779c.pth",
    "regnet_y_8gf": _PT + "regnet_y_8gf-d0d0e4a8.pth",
    "regnet_y_16gf": _PT + "regnet_y_16gf-9e6ed7dd.pth",
    "regnet_y_32gf": _PT + "regnet_y_32gf-4dee3f7a.pth",
    "regnet_x_400mf": _PT + "regnet_x_400mf-adf1edd5.pth",
    "regnet_x_800mf": _PT + "regnet_x_800mf-ad17e45c.pth",
    "regnet_x_1_6gf": _PT + "regnet_x_1_6gf-e3633e7f.pth",
    "regnet_x_3_2gf": _PT + "regnet_x_3_2gf-f342aeae.pth",
    "regnet_x_8gf": _PT + "regnet_x_8gf-03ceed89.pth",
    "regnet_x_16gf": _PT + "regnet_x_16gf-2007eb11.pth",
    "regnet_x_32gf": _PT + "regnet_x_32gf-9d47f8d0.pth",
    "resnet18": _PT + "resnet18-f37072fd.pth",
    "resnet34": _PT + "resnet34-b627a593.pth",
    "resnet50": _PT + "resnet50-0676ba61.pth",
    "resnet101": _PT + "resnet101-63fe2227.pth",
    "resnet152": _PT + "resnet152-394f9c45.pth",
    "resnext50_32x4d": _PT + "resnext50_32x4d-7cdf4587.pth",
    "resnext101_32x8d": _PT + "resnext101_32x8d-8ba56ff5.pth",
    "wide_resnet50_2": _PT + "wide_resnet50_2-95faca4d.pth",
    "wide_resnet101_2": _PT + "wide_resnet101_2-32ee1156.pth",
    "shufflenetv2_x0.5": _PT + "shufflenetv2_x0.5-f707e7126e.pth",
    "shufflenetv2_x1.0": _PT + "shufflenetv2_x1-5666bf0f80.pth",
    "shufflenetv2_x1.5": None,
    "shufflenetv2_x2.0": None,
    "squeezenet1_0": _PT + "squeezenet1_0-b66bff10.pth",
    "squeezenet1_1": _PT + "squeezenet1_1-b8a52dc0.pth",
    "vgg11": _PT + "vgg11-8a719046.pth",
    "vgg13": _PT + "vgg13-19584684.pth",
    "vgg16": _PT + "vgg16-397923af.pth",
    "vgg19": _PT + "vgg19-dcbb9e9d.pth",
    "vgg11_bn": _PT + "vgg11_bn-6002323d.pth",
    "vgg13_bn": _PT + "vgg13_bn-abd245e5.pth",
    "vgg16_bn": _PT + "vgg16_bn-6c64b313.pth",
    "vgg19_bn": _PT + "vgg19_bn-c79401a0.pth",
}


def torchvision_url(path: str, key: str) -> str:
    """The URL mmcv 1.7 loads for ``torchvision://NAME`` (or the deprecated ``modelzoo://NAME``):
    ``NAME`` lower-cased with ``_weights`` removed, looked up in :data:`URLS`, or for a weight
    enum's name in the installed torchvision."""
    name = path.split("://", 1)[1].lower().replace("_weights", "")
    if name in URLS:
        if URLS[name] is None:
            raise UserError(f"{key}.checkpoint: torchvision publishes no weights for {name!r} "
                            f"(got {path!r})")
        return URLS[name]
    if "." not in name:
        raise UserError(f"{key}.checkpoint: unknown torchvision model {name!r} in {path!r}; "
                        f"expected a name of mmcv's table (e.g. 'resnet18', 'resnet50', 'vgg16_bn': "
                        f"ocr_ds/models/common/torchvision_urls.py) or a weight enum such as "
                        f"'ResNet50_Weights.IMAGENET1K_V1'")
    urls = enum_urls(path, key)
    if name not in urls:
        raise UserError(f"{key}.checkpoint: the installed torchvision has no weights {name!r} "
                        f"(got {path!r}); e.g. {', '.join(sorted(urls)[:3])}")
    return urls[name]


def enum_urls(path: str, key: str) -> dict[str, str]:
    """``'<model>.<weights>'`` -> URL for every weight enum of the installed torchvision (>= 0.13),
    keyed as mmcv's ``get_torchvision_models`` keys them (``'<model>.default'`` included)."""
    try:
        import torchvision
        import torchvision.models as models
    except Exception as exc:  # noqa: BLE001 -- a missing or broken torchvision: one line
        raise UserError(f"{key}.checkpoint: {path!r} names torchvision weights, which need "
                        f"torchvision to find their URL ({type(exc).__name__}: {exc}); install "
                        f"it, or give the URL or a local path") from None
    version = tuple(int(p) for p in torchvision.__version__.split("+")[0].split(".")[:2])
    if version < (0, 13):
        raise UserError(f"{key}.checkpoint: {path!r} names weights torchvision "
                        f"{torchvision.__version__} does not have (enums came with 0.13)")
    if version < (0, 14):
        classes = [c for n, c in vars(models).items() if n.endswith("_Weights")]
    else:
        classes = [models.get_model_weights(m) for m in models.list_models(models)]
    urls = {}
    for cls in classes:
        if not hasattr(cls, "DEFAULT"):      # classes without weights (as mmcv skips them)
            continue
        stem = cls.__name__.replace("_Weights", "").lower()
        urls[f"{stem}.default"] = cls.DEFAULT.url
        for weights in cls:
            urls[f"{stem}.{weights.name.lower()}"] = weights.url
    return urls
