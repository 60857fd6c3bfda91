"""Engine overhead: our loop with every default hook vs a bare DeepSpeed loop vs torch DDP.

The same model, DeepSpeed JSON (ZeRO-0, fp32) and in-memory batches go through

  (a) ocr_ds's Runner with the default hooks (lr, checkpoint, timer, logger writing a text and
      JSON log every 10 iterations),
  (b) a bare ``loss = engine(batch); engine.backward(loss); engine.step()`` loop,
  (c) ``torch.nn.parallel.DistributedDataParallel`` with the same torch optimizer,

in alternating rounds, and prints the median time per step of each and the ratios a/b and a/c.
Goal (issue 3): a/b <= 1.03 and a/c <= 1.05.

    python benchmarks/engine_overhead.py [--iters 60] [--rounds 5] [--batch 16] [--quick]

One process, one thread (OMP_NUM_THREADS=1), so the numbers measure the loop, not the cores.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from torch import nn  # noqa: E402


class ConvNet(nn.Module):
    """A small CRNN-like convolutional recogniser body (about 1.2M parameters)."""

    def __init__(self):
        super().__init__()
        chans = [1, 32, 64, 128, 128]
        layers = []
        for cin, cout in zip(chans, chans[1:]):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                       nn.MaxPool2d((2, 2))]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(128 * 2 * 6, 37)

    def forward(self, batch, return_loss=True):
        logits = self.head(self.body(batch["img"]).flatten(1))
        return {"loss_ce": nn.functional.cross_entropy(logits, batch["target"])}


class FixedLoader:
    """Pre-made batches, with the attributes the Runner reads from a DataLoader."""

    class _Sampler:
        def set_epoch(self, epoch, skip=0):
            pass

    def __init__(self, batches):
        self.batches, self.batch_size, self.sampler = batches, len(batches[0]["img"]), self._Sampler()

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=60)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--quick", action="store_true", help="30 iterations x 2 rounds")
    p.add_argument("--json", help="also write the medians and ratios to this file")
    args = p.parse_args()
    if args.quick:
        args.iters, args.rounds = 30, 2
    torch.set_num_threads(1)

    from ocr_ds.config import Config
    from ocr_ds.engine import builder
    from ocr_ds.engine.hooks.build import build_hooks
    from ocr_ds.engine.launch import setup_env
    from ocr_ds.engine.runner import Runner
    from ocr_ds.engine.train import make_logger
    from ocr_ds.schedules import LrSchedule
    from ocr_ds.translate import translate

    setup_env("none", None)
    builder.init_distributed()
    g = torch.Generator().manual_seed(0)
    batches = [{"img": torch.randn(args.batch, 1, 32, 100, generator=g),
                "target": torch.randint(0, 37, (args.batch,), generator=g)} for _ in range(args.iters)]
    cfg = Config(dict(
        optimizer=dict(type="SGD", lr=0.01, momentum=0.9), optimizer_config=dict(grad_clip=None),
        data=dict(samples_per_gpu=args.batch), lr_config=dict(policy="poly", power=0.9, by_epoch=False),
        runner=dict(type="IterBasedRunner", max_iters=args.iters),
        checkpoint_config=dict(interval=10**9, save_last=False, by_epoch=False),
        log_config=dict(interval=10, hooks=[dict(type="TextLoggerHook")])))
    ds_config = translate(cfg, world_size=1, accelerator="cpu").ds_config
    torch.manual_seed(0)
    base = ConvNet()
    work_dir = tempfile.mkdtemp(prefix="ocr_ds_overhead_")
    logger = make_logger(os.path.join(work_dir, "bench.log"), 0)
    logger.handlers = [h for h in logger.handlers if not isinstance(h, type(logger.handlers[0]))
                       or h.stream is not sys.stdout] or logger.handlers

    engine_a = builder.build_engine(copy.deepcopy(base), ds_config)
    engine_b = builder.build_engine(copy.deepcopy(base), ds_config)
    ddp_model = torch.nn.parallel.DistributedDataParallel(copy.deepcopy(base))
    ddp_opt = torch.optim.SGD(ddp_model.parameters(), lr=0.01, momentum=0.9)

    def run_ours() -> float:
        hooks = build_hooks(cfg, schedule=LrSchedule.from_config(
            cfg.lr_config, max_epochs=None, max_iters=args.iters, iters_per_epoch=args.iters),
            runner_by_epoch=False, validate=False)
        runner = Runner(engine=engine_a, train_loader=FixedLoader(batches), hooks=hooks,
                        work_dir=work_dir, max_epochs=None, max_iters=args.iters,
                        iters_per_epoch=args.iters, logger=logger, meta={}, input_dtype=None,
                        device=torch.device("cpu"), timestamp="bench", cfg=cfg)
        t = time.perf_counter()
        runner.run()
        return (time.perf_counter() - t) / args.iters

    def run_bare() -> float:
        t = time.perf_counter()
        for batch in batches:
            loss = engine_b(batch)["loss_ce"]
            engine_b.backward(loss)
            engine_b.step()
        return (time.perf_counter() - t) / args.iters

    def run_ddp() -> float:
        t = time.perf_counter()
        for batch in batches:
            loss = ddp_model(batch)["loss_ce"]
            ddp_opt.zero_grad(set_to_none=True)
            loss.backward()
            ddp_opt.step()
        return (time.perf_counter() - t) / args.iters

    times = {"a_ours": [], "b_bare_deepspeed": [], "c_ddp": []}
    run_ours(), run_bare(), run_ddp()  # warm-up
    for _ in range(args.rounds):
        times["a_ours"].append(run_ours())
        times["b_bare_deepspeed"].append(run_bare())
        times["c_ddp"].append(run_ddp())
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"engine overhead, ZeRO-0 fp32, 1 process x 1 thread, batch {args.batch}x1x32x100, "
          f"{args.iters} iters x {args.rounds} rounds")
    for k, v in med.items():
        print(f"  {k:18s} median {v * 1000:8.2f} ms/step")
    ratios = {"a/b": med["a_ours"] / med["b_bare_deepspeed"], "a/c": med["a_ours"] / med["c_ddp"]}
    print(f"  a/b = {ratios['a/b']:.3f}  (goal <= 1.03)")
    print(f"  a/c = {ratios['a/c']:.3f}  (goal <= 1.05)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"median_s": med, "ratios": ratios, "iters": args.iters,
                       "rounds": args.rounds}, f)


if __name__ == "__main__":
    main()
