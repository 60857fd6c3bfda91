"""Ref side of test_resnet_parity.py: mmdet 2.28.2's own ResNet."""
import torch
from mmdet.models.backbones import ResNet

from mmocr_common import seed_all, state_of


def run(cases):
    """Per case: the state after ``init_weights()`` from a seed, train-mode outputs, the
    gradients of ``sum(out_i * g_i)``, the state after that step (BN statistics), eval-mode
    outputs, and which parameters require grad."""
    results = []
    for case in cases:
        seed_all(case["seed"])
        model = ResNet(**case["cfg"])
        model.init_weights()
        init = state_of(model)
        res = dict(init=init, requires_grad=sorted(k for k, p in model.named_parameters()
                                                   if p.requires_grad))
        if case.get("x") is not None:
            model.train()
            x = case["x"].clone().requires_grad_(True)
            outs = model(x)
            sum((o * g).sum() for o, g in zip(outs, case["grad_outs"])).backward()
            res.update(train_outs=[o.detach() for o in outs], x_grad=x.grad,
                       grads={k: p.grad.clone() for k, p in model.named_parameters()
                              if p.grad is not None},
                       state=state_of(model),
                       eval_outs=_eval_outs(model, case["x"]))
        results.append(res)
    return results


def _eval_outs(model, x):
    model.eval()            # mmdet's ResNet.train() returns None: no chaining
    with torch.no_grad():
        return [o.detach() for o in model(x)]
