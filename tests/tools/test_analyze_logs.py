"""``python -m ocr_ds.tools.analyze_logs`` against MMOCR 0.6.3's own tools/analyze_logs.py on
the same logs: the same printout of ``cal_train_time`` and ``plot_curve``, the same curves
(label, axis, points); the differences the README lists (epoch metrics with a prefix, epochs of
unequal length) checked on their own."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ocr_ds.tools import analyze_logs
from parity import ref_file

REF = ref_file(__file__, "mmocr_analyze_logs.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_log(path, epochs, rng, per_epoch=7, interval=2, val=(), metric="word_acc",
              short_epoch=None):
    """A training log as ocr_ds writes it (mmcv's layout): the environment line, then per epoch
    a train line every ``interval`` iterations and a val line after the epochs in ``val``."""
    lines = [dict(env_info="sys.platform: linux", config="...", seed=0)]
    for epoch in range(1, epochs + 1):
        last = per_epoch if epoch != short_epoch else 4
        for it in range(interval, last + 1, interval):
            loss = float(np.round(rng.uniform(0.5, 2), 5))
            lines.append(dict(mode="train", epoch=epoch, iter=it, lr=float(0.1 / epoch),
                              memory=500, data_time=0.002, loss_ctc=loss, loss=loss,
                              time=float(np.round(rng.uniform(0.1, 0.4), 5))))
        if epoch in val:
            lines.append({"mode": "val", "epoch": epoch, "iter": per_epoch,
                          metric: float(np.round(rng.uniform(), 4))})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


@pytest.fixture
def logs(tmp_path):
    rng = np.random.RandomState(0)
    return [write_log(tmp_path / "a.log.json", 3, rng, val=(1, 3)),
            write_log(tmp_path / "b.log.json", 2, rng, per_epoch=9, interval=3, val=(1, 2),
                      metric="hmean")]


def ours(argv, capsys):
    args = analyze_logs.parse_args(argv)
    loaded = analyze_logs.load_json_logs(args.json_logs)
    if args.task == "cal_train_time":
        analyze_logs.cal_train_time(loaded, args)
        return capsys.readouterr().out, None
    lines = analyze_logs.curves(loaded, args.json_logs, args.keys, args.legend)
    return None, [(label, axis, [float(x) for x in xs], [float(y) for y in ys])
                  for label, axis, xs, ys in lines]


def test_printout_and_curves_equal_mmocr(logs, tmp_path, capsys, mmocr_ref):
    out = str(tmp_path / "curve.png")
    calls = [("cal_train_time", logs), ("cal_train_time", [*logs, "--include-outliers"]),
             ("plot_curve", [*logs, "--keys", "loss", "lr", "--out", out]),
             ("plot_curve", [logs[0], "--keys", "word_acc", "time", "--legend", "acc", "t",
                             "--out", out]),
             ("plot_curve", [logs[1], "--keys", "hmean", "--title", "det", "--out", out])]
    theirs = mmocr_ref.call(REF, "run", calls=calls)
    for (task, argv), want in zip(calls, theirs):
        assert want["error"] is None, (argv, want)
        text, lines = ours([task, *argv], capsys)
        if task == "cal_train_time":
            assert text == want["text"]
        else:
            assert lines == [tuple(c) for c in want["curves"]], argv
            assert len(lines) >= 1 and all(len(c[2]) == len(c[3]) > 0 for c in lines)
            # the command itself: MMOCR's lines, and the figure written
            os.remove(out)
            assert analyze_logs.main([task, *argv]) == 0
            assert capsys.readouterr().out == want["text"]
            assert os.path.getsize(out) > 0


def test_differences_from_mmocr(tmp_path, capsys, mmocr_ref):
    """A prefixed epoch metric (``0_word_acc``, ``hmean-iou:hmean``: what UniformConcatDataset
    and the detectors log) is drawn per epoch (MMOCR draws it against iterations, taking val
    values for train points); epochs of unequal length (a resumed run) are averaged each on its
    own (MMOCR fails)."""
    rng = np.random.RandomState(1)
    prefixed = write_log(tmp_path / "p.log.json", 3, rng, val=(1, 2, 3), metric="0_word_acc")
    resumed = write_log(tmp_path / "r.log.json", 3, rng, short_epoch=2)
    theirs = mmocr_ref.call(REF, "run", calls=[
        ("plot_curve", [prefixed, "--keys", "0_word_acc", "--out", str(tmp_path / "x.png")]),
        ("cal_train_time", [resumed])])
    assert theirs[0]["curves"][0][1] == "iter" and theirs[1]["error"] == "ValueError"
    _, lines = ours(["plot_curve", prefixed, "--keys", "0_word_acc"], capsys)
    values = [json.loads(line) for line in open(prefixed)][1:]
    assert lines == [(f"{prefixed}_0_word_acc", "epoch", [1.0, 2.0, 3.0],
                      [v["0_word_acc"] for v in values if v["mode"] == "val"])]
    text, _ = ours(["cal_train_time", resumed], capsys)
    times = {e: [v["time"] for v in values_][1:] for e in (1, 2, 3)
             for values_ in [[v for v in (json.loads(line) for line in open(resumed))
                              if v.get("epoch") == e]]}
    means = [np.mean(times[e]) for e in (1, 2, 3)]
    assert text.splitlines()[1] == (f"slowest epoch {int(np.argmax(means)) + 1}, average time "
                                    f"is {max(means):.4f}")
    assert text.splitlines()[4] == (f"average iter time: "
                                    f"{np.mean(sum(times.values(), [])):.4f} s/iter")


@pytest.mark.parametrize("argv,message", [
    (["cal_train_time", "{d}/a.log"], "error: json_logs: expected the training's "
                                      "<timestamp>.log.json (got '{d}/a.log')"),
    (["cal_train_time", "{d}/none.log.json"], "error: json_logs: cannot read "
                                              "'{d}/none.log.json' (No such file or directory)"),
    (["cal_train_time", "{d}/bad.log.json"], "error: json_logs: {d}/bad.log.json:2: not a JSON "
                                             "line (Expecting value)"),
    (["plot_curve", "{d}/a.log.json", "--keys", "acc"],
     "error: --keys: 'acc' is not in {d}/a.log.json (it has: data_time, iter, loss, loss_ctc, "
     "lr, memory, time)"),
    (["plot_curve", "{d}/a.log.json", "--legend", "x", "y"],
     "error: --legend: expected one label per log and key, 1 (got 2)"),
    (["plot_curve", "{d}/a.log.json", "--out", "{d}/a.log.json/x.png"], "error: --out: "),
    (["plot_curve", "{d}/a.log.json", "--style", "neon", "--out", "{d}/x.png"],
     "error: --style: expected one of darkgrid, whitegrid, dark, white, ticks (got 'neon')"),
    (["cal_train_time"], "error: the following arguments are required: json_logs (see --help)"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, argv, message):
    write_log(tmp_path / "a.log.json", 1, np.random.RandomState(0))
    (tmp_path / "bad.log.json").write_text('{"env_info": ""}\nnot json\n')
    d = str(tmp_path)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("DISPLAY", None)
    proc = subprocess.run([sys.executable, "-m", "ocr_ds.tools.analyze_logs",
                           *[a.format(d=d) for a in argv]], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    assert proc.stderr.startswith(message.format(d=d)) and proc.stderr.count("\n") == 1, \
        proc.stderr
    assert not os.path.exists(os.path.join(d, "x.png"))
    assert [p for p in os.listdir(d) if p.startswith(".")] == []


def test_plot_without_matplotlib_is_one_line(tmp_path, monkeypatch, capsys):
    """matplotlib is not a dependency of ocr_ds (the test extras bring it)."""
    from ocr_ds.tools import lr_curve

    log = write_log(tmp_path / "a.log.json", 1, np.random.RandomState(0))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(analyze_logs.UserError, match=r"^plot_curve: needs matplotlib, which is "
                                                     r"not installed \(pip install matplotlib\)$"):
        analyze_logs.main(["plot_curve", log, "--out", str(tmp_path / "x.png")])
    with pytest.raises(analyze_logs.UserError, match=r"^--plot: needs matplotlib"):
        lr_curve.plot([(0, 0, 0.1)], str(tmp_path / "lr.png"), title="t")
    assert sorted(os.listdir(tmp_path)) == ["a.log.json"]
