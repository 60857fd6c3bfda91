"""What both sides of the schedule parity tests share. Torch only: imported by
test_lr_parity.py / test_momentum_parity.py here and by their reference-side modules
(mmocr_lr.py, mmocr_momentum.py) in the MMOCR 0.6.3 venv, so both sides build the very same
optimizers and read them the same way. Also our side's replay of a hook over a run."""
from types import SimpleNamespace

import torch


def lr_optimizer(kind, lrs):
    """One param group per lr (momentum / betas differ per group too)."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
    if kind == "SGD":
        return torch.optim.SGD([dict(params=[p], lr=lr, momentum=0.9 - 0.1 * i)
                                for i, (p, lr) in enumerate(zip(params, lrs))], lr=1.0)
    return torch.optim.Adam([dict(params=[p], lr=lr, betas=(0.9, 0.999 - 0.001 * i))
                             for i, (p, lr) in enumerate(zip(params, lrs))], lr=1.0)


def lr_groups(opt):
    return [{k: g[k] for k in ("lr", "initial_lr") if k in g} for g in opt.param_groups]


def current_lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def momentum_optimizer(kind, momenta):
    """One param group per momentum: SGD's ``momentum``, or Adam's ``betas`` (beta2 differs per
    group, to see it kept)."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in momenta]
    if kind == "SGD":
        return torch.optim.SGD([dict(params=[p], momentum=m) for p, m in zip(params, momenta)],
                               lr=0.1)
    return torch.optim.Adam([dict(params=[p], betas=(m, 0.999 - 0.001 * i))
                             for i, (p, m) in enumerate(zip(params, momenta))], lr=0.1)


MOMENTUM_KEYS = ("momentum", "betas", "initial_momentum", "base_momentum", "max_momentum")


def momentum_groups(opt):
    return [{k: list(g[k]) if k == "betas" else g[k] for k in MOMENTUM_KEYS if k in g}
            for g in opt.param_groups]


def current_momenta(opt):
    return [g["momentum"] if "momentum" in g else list(g["betas"]) for g in opt.param_groups]


def drive(hook, runner, ipe, stop, read):
    """Our runner's order: before_run, then per epoch (a pass over the loader, also in
    iteration-based runs) before_train_epoch and per iteration before_train_iter; ``read``
    of the optimizer before each iteration."""
    out = []
    hook.before_run(runner)
    while runner.iter < stop:
        runner.epoch = runner.iter // ipe
        hook.before_train_epoch(runner)
        for _ in range(ipe):
            if runner.iter >= stop:
                break
            hook.before_train_iter(runner)
            out.append(read(runner.optimizer))
            runner.iter += 1
    return out


def replay(case, max_iters, make_hook, make_optimizer, read, groups, hook_state=True):
    """Our hook (``make_hook()``, fresh each time) over the case's run, resumed at
    ``case['resume_at']`` as a checkpoint restores it (the optimizer's state, and the hook's
    unless ``hook_state`` is False): ``{'curve': [...], 'groups': [...]}``."""
    max_epochs, ipe = case["max_epochs"], case["ipe"]
    stop = case["resume_at"] or max_iters
    opt = make_optimizer()
    runner = SimpleNamespace(optimizer=opt, epoch=0, iter=0, max_epochs=max_epochs,
                             max_iters=max_iters)
    hook = make_hook()
    curve = drive(hook, runner, ipe, stop, read)
    if stop < max_iters:  # what a checkpoint keeps: the optimizer's state and the hook's
        state, saved = opt.state_dict(), hook.state_dict()
        opt = make_optimizer()
        opt.load_state_dict(state)
        hook = make_hook()
        if hook_state:
            hook.load_state_dict(saved)
        runner = SimpleNamespace(optimizer=opt, epoch=stop // ipe, iter=stop,
                                 max_epochs=max_epochs, max_iters=max_iters)
        curve += drive(hook, runner, ipe, max_iters, read)
    return dict(curve=curve, groups=groups(opt))
