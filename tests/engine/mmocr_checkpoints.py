"""Ref side of test_load_from.py: checkpoints as MMOCR 0.6.3's model zoo has them."""
import os

from mmocr_common import CONFIGS, build_model, load_config, publish_checkpoint


def publish(config, path, seed=0):
    """MMOCR's model of ``config`` (an MMOCR config, relative to its configs/), seeded, written
    by mmcv's save_checkpoint + tools/publish_model.py; the config's absolute path and the
    number of tensors."""
    cfg = load_config(config)['model']
    init_cfg = cfg.get('backbone', {}).get('init_cfg')    # a dict, a list or None
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        cfg['backbone']['init_cfg'] = None     # would download torchvision's weights
    model = build_model(cfg, seed=seed)
    publish_checkpoint(model, path)
    return dict(config=os.path.join(CONFIGS, config), tensors=len(model.state_dict()))
