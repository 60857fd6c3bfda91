"""Ref side of test_registry_names.py: every name MMOCR 0.6.3 registers from its own code
(models, datasets, pipelines, loaders, parsers; mmdet's and mmcv's own names left out)."""
import warnings

import numpy as np

np.bool = bool
np.int = int


def mmocr_names():
    warnings.simplefilter("ignore")
    import mmocr.datasets  # noqa: F401 (registers)
    import mmocr.datasets.builder as datasets
    import mmocr.models  # noqa: F401
    # its deployment wrappers register when onnxruntime imports (its tools import them); import
    # them here, so the names do not depend on what this reference process ran before
    import mmocr.core.deployment  # noqa: F401
    import mmocr.models.builder as models
    from mmcv.utils import Registry
    from mmdet.datasets.builder import DATASETS, PIPELINES

    registries = [getattr(m, k) for m in (models, datasets) for k in dir(m)
                  if isinstance(getattr(m, k), Registry)] + [DATASETS, PIPELINES]
    return sorted({name for r in registries for name, cls in r.module_dict.items()
                   if cls.__module__.startswith("mmocr")})
