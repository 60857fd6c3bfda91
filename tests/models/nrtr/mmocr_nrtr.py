"""Ref side (MMOCR 0.6.3 venv) of the NRTR and SATRN parity tests: what
``tests/models/textrecog/mmocr_textrecog.py`` has not (the whole recognisers run through its
``recognizer``)."""
import torch

from mmocr_common import build_model


def model_shapes(model_cfgs):
    """Keys and shapes of each model, built on the CPU without init: MMOCR's transformer
    decoders build their position tables on the CPU and cannot be built on the meta device."""
    out = []
    torch.set_num_threads(1)
    for cfg in model_cfgs:
        model = build_model(cfg, init=False)
        out.append({k: tuple(v.shape) for k, v in model.state_dict().items()})
        del model
    return out
