"""Ref side of test_sdmgr_parity.py: MMOCR 0.6.3's SDMGR, KIEDataset / OpensetKIEDataset
(their pipelines, relations and targets) and KIE metrics, on the test's weights and data.

MMOCR 0.6.3's ``sort_vertex8`` uses ``np.int``, which numpy 1.24 removed: every KIE annotation
fails to load under the reference's numpy 1.26 without the alias below.
"""
import copy
import os

import numpy as np
import torch
from mmcv import ConfigDict

from mmocr_common import build_model, grads_of, load_config, publish_checkpoint

np.int = int
np.bool = bool
LOADER = dict(type='HardDiskLoader', repeat=1,
              parser=dict(type='LineJsonParser',
                          keys=['file_name', 'height', 'width', 'annotations']))


def model_run(configs, seed, ckpt_dir, img, relations, texts, gt_bboxes, gt_labels):
    """Per config: the seeded, initialised model's shapes and published checkpoint; its eval
    output (nodes, edges softmax) on the batch; then its train losses and gradients."""
    out = {}
    for path in configs:
        cfg = load_config(path)['model']
        model = build_model(ConfigDict(cfg), seed=seed)
        name = os.path.basename(path)[:-3]
        res = dict(shapes={k: list(v.shape) for k, v in model.state_dict().items()},
                   checkpoint=publish_checkpoint(model, os.path.join(ckpt_dir, name + '.pth')))
        classes = cfg['bbox_head']['num_classes']
        labels = [torch.cat([g[:, :1] % classes, g[:, 1:]], 1) for g in gt_labels]
        metas = [dict(img_shape=tuple(img.shape[2:]) + (3, )) for _ in range(len(img))]
        model.eval()
        with torch.no_grad():
            (result, ) = model(img, metas, return_loss=False, relations=relations,
                               texts=texts, gt_bboxes=gt_bboxes)
        res.update(nodes=result['nodes'], edges=result['edges'])
        model.train()
        losses = model.forward_train(img, metas, relations, texts, gt_bboxes, labels)
        (losses['loss_node'] + losses['loss_edge']).backward()
        res.update(losses={k: v.detach() for k, v in losses.items()}, grads=grads_of(model))
        out[name] = res
    return out


def _dc(value):
    return value.data if hasattr(value, 'data') and not isinstance(value, torch.Tensor) \
        else value


def dataset_run(configs, root, ann_files):
    """Per (config, split): MMOCR's samples of the config's dataset and pipeline on the test's
    annotation files under ``root``."""
    import mmocr.datasets  # noqa: F401  (registers MMOCR's datasets and steps)
    from mmdet.datasets import build_dataset
    from mmocr.datasets import KIEDataset
    out = {}
    for path in configs:
        data = load_config(path)['data']
        for split in ('train', 'test'):
            spec = copy.deepcopy(data[split])
            spec.update(ann_file=os.path.join(root, ann_files[path]), img_prefix=root,
                        dict_file=os.path.join(root, 'dict.txt'))
            dataset = build_dataset(ConfigDict(spec))
            samples = []
            for i in range(len(dataset)):
                sample = {k: _dc(v) for k, v in dataset[i].items()}
                metas = sample.pop('img_metas')
                sample['metas'] = {k: v for k, v in metas.items()
                                   if k in ('filename', 'ori_filename', 'ori_texts',
                                            'img_shape', 'ori_bboxes')}
                samples.append(sample)
            out[f'{path}:{split}'] = samples
    # directed edges (no config uses them): the targets before any pipeline step
    directed = KIEDataset(os.path.join(root, ann_files[configs[0]]), copy.deepcopy(LOADER),
                          os.path.join(root, 'dict.txt'), pipeline=[], directed=True)
    out['directed'] = [torch.from_numpy(directed[i]['ann_info']['labels'])
                       for i in range(len(directed))]
    return out


def metrics_run(f1_cases, root, ann_file, openset_ann_file, macro_results, openset_results,
                ignores, link_types, edge_thrs):
    """compute_f1_score on each case; KIEDataset.evaluate (macro_f1 with ``ignores``) and
    OpensetKIEDataset.evaluate (openset_f1, every link type and threshold) of the results."""
    from mmocr.core import compute_f1_score
    from mmocr.datasets import KIEDataset, OpensetKIEDataset
    loader = LOADER
    dict_file = os.path.join(root, 'dict.txt')
    f1 = [torch.from_numpy(np.asarray(compute_f1_score(p, g, ig))) for p, g, ig in f1_cases]
    kie = KIEDataset(os.path.join(root, ann_file), copy.deepcopy(loader), dict_file,
                     pipeline=[])
    macro = kie.evaluate(macro_results, metric_options=dict(macro_f1=dict(ignores=ignores)))
    openset = {}
    for link_type in link_types:
        for thr in edge_thrs:
            ds = OpensetKIEDataset(os.path.join(root, openset_ann_file), copy.deepcopy(loader),
                                   dict_file, pipeline=[], link_type=link_type, edge_thr=thr)
            files = [info['file_name'] for info in ds.data_infos]
            results = [dict(r, img_metas=[dict(ori_filename=f)])
                       for r, f in zip(openset_results, files)]
            openset[f'{link_type}:{thr}'] = {k: float(v) for k, v in ds.evaluate(results).items()}
    return dict(f1=f1, macro=float(macro['macro_f1']), openset=openset)


def edge_pairs(results, texts):
    """What MMOCR's ``draw_edge_result`` (open-set pictures) writes, per result: the texts in
    drawing order (a key when it changes, then its value) and the link scores, with its text
    drawing (a downloaded font) recorded instead of drawn."""
    from mmocr.core import visualize
    drawn = []

    def draw_texts_by_pil(img, texts, *args, return_text_size=False, **kwargs):
        drawn.append(('text', texts[0]))
        return (img, [(8 * len(texts[0]), 15)]) if return_text_size else img

    def put_text(img, text, *args, **kwargs):
        drawn.append(('score', text))
        return img

    saved = visualize.draw_texts_by_pil, visualize.cv2.putText
    visualize.draw_texts_by_pil, visualize.cv2.putText = draw_texts_by_pil, put_text
    try:
        out = []
        for result, words in zip(results, texts):
            drawn.clear()
            n = result['nodes'].size(0)
            visualize.draw_edge_result(np.zeros((90, 150, 3), np.uint8),
                                       dict(result, img_metas=[dict(ori_texts=words)]))
            out.append(list(drawn))
            assert result['edges'].shape == (n * n, 2)
        return out
    finally:
        visualize.draw_texts_by_pil, visualize.cv2.putText = saved
