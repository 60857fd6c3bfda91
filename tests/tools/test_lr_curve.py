"""``python -m ocr_ds.tools.lr_curve``: run length from the config, output formats, errors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocr_ds.errors import UserError, run_cli
from ocr_ds.schedules import MomentumSchedule
from ocr_ds.tools.lr_curve import lr_curve, main, momentum_curve, run_length

ROOT = Path(__file__).resolve().parents[2]

DBNET = dict(optimizer=dict(type="SGD", lr=0.007, momentum=0.9, weight_decay=1e-4),
             lr_config=dict(policy="poly", power=0.9, min_lr=1e-7, by_epoch=True),
             total_epochs=1200)


# --- run length -------------------------------------------------------------------------------

@pytest.mark.parametrize("cfg, expected", [
    (dict(total_epochs=5), (5, None)),
    (dict(runner=dict(type="EpochBasedRunner", max_epochs=7)), (7, None)),
    (dict(runner=dict(type="EpochBasedRunner", max_epochs=7), total_epochs=7), (7, None)),
    (dict(runner=dict(type="IterBasedRunner", max_iters=300)), (None, 300)),
])
def test_run_length(cfg, expected):
    assert run_length(cfg) == expected


@pytest.mark.parametrize("cfg, message", [
    (dict(), "runner: expected runner=dict(type='EpochBasedRunner', max_epochs=N), "
             "runner=dict(type='IterBasedRunner', max_iters=N) or total_epochs=N "
             "(got neither runner nor total_epochs)"),
    (dict(runner=dict(type="EpochBasedRunner", max_epochs=7), total_epochs=8),
     "total_epochs: expected the same as runner.max_epochs (7) (got 8)"),
    (dict(runner=dict(type="IterBasedRunner", max_iters=10), total_epochs=8),
     "total_epochs: expected no total_epochs with runner type 'IterBasedRunner' (max_iters=10) "
     "(got 8)"),
    (dict(runner=dict(type="EpochRunner", max_epochs=7)),
     "runner.type: expected one of 'EpochBasedRunner', 'IterBasedRunner' (got 'EpochRunner')"),
    (dict(runner=dict(type="EpochBasedRunner")),
     "runner.max_epochs: expected a positive integer (got None)"),
    (dict(runner=dict(type="IterBasedRunner", max_iters=0)),
     "runner.max_iters: expected a positive integer (got 0)"),
    (dict(total_epochs=2.5), "total_epochs: expected a positive integer (got 2.5)"),
])
def test_run_length_errors(cfg, message):
    with pytest.raises(UserError) as info:
        run_length(cfg)
    assert str(info.value) == message


# --- the curve --------------------------------------------------------------------------------

def test_dbnet_curve_check_value():
    curve = lr_curve(DBNET, 63)
    assert len(curve) == 1200 * 63
    assert curve[0] == (0, 0, 0.007)
    epoch, it, lr = curve[100 * 63]
    assert (epoch, it, f"{lr:.3e}") == (100, 6300, "6.473e-03")
    assert curve[-1][:2] == (1199, 75599)


def test_iteration_run_curve_and_epoch_column():
    cfg = dict(optimizer=dict(lr=0.1), runner=dict(type="IterBasedRunner", max_iters=7),
               lr_config=dict(policy="step", step=[3], by_epoch=False))
    assert lr_curve(cfg, 3) == [(0, 0, 0.1), (0, 1, 0.1), (0, 2, 0.1), (1, 3, pytest.approx(0.01)),
                                (1, 4, pytest.approx(0.01)), (1, 5, pytest.approx(0.01)),
                                (2, 6, pytest.approx(0.01))]


def test_one_cycle_curve_ignores_optimizer_lr():
    cfg = dict(optimizer=dict(lr=5.0), runner=dict(type="IterBasedRunner", max_iters=10),
               lr_config=dict(policy="OneCycle", max_lr=0.25))
    assert lr_curve(cfg, 4)[0][2] == pytest.approx(0.01)


def test_no_lr_config_is_fixed():
    curve = lr_curve(dict(optimizer=dict(lr=0.5), total_epochs=2), 2)
    assert [lr for _, _, lr in curve] == [0.5] * 4


@pytest.mark.parametrize("cfg, message", [
    (dict(total_epochs=2), "optimizer: expected a dict with an lr, e.g. dict(type='SGD', "
                           "lr=0.01) (got None)"),
    (dict(total_epochs=2, optimizer=dict(type="SGD")), "optimizer.lr: expected a number "
                                                       "(got None)"),
])
def test_optimizer_lr_required(cfg, message):
    with pytest.raises(UserError) as info:
        lr_curve(cfg, 2)
    assert str(info.value) == message


def test_momentum_curve_is_the_schedule_from_the_optimizers_momentum_or_betas():
    config = dict(policy="step", step=1, warmup="linear", warmup_iters=3)
    schedule = MomentumSchedule.from_config(config, max_epochs=2, max_iters=8)
    for optimizer, base in ((dict(type="SGD", momentum=0.8), 0.8),
                            (dict(type="Adam", betas=(0.7, 0.99)), 0.7), (dict(type="AdamW"), 0.9)):
        curve = momentum_curve(dict(optimizer=optimizer, total_epochs=2, momentum_config=config), 4)
        assert curve == [(it // 4, it, schedule.momentum(base, it // 4, it)) for it in range(8)]
    assert curve[0][2] == 1.0 and curve[4][2] == 0.45  # warmup 0.9 / 0.9, then 0.9 * 0.5
    with pytest.raises(UserError, match=r"^optimizer: --momentum needs optimizer.momentum or "
                                        r"optimizer.betas \(got neither for type 'Adadelta'\)"):
        momentum_curve(dict(optimizer=dict(type="Adadelta"), total_epochs=2,
                            momentum_config=config), 4)


# --- the command line -------------------------------------------------------------------------

def write_json(tmp_path, cfg):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def cli(argv, capsys):
    """Run the CLI as ``python -m`` does: returns (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        run_cli(lambda: main(argv))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_json_output(tmp_path, capsys):
    cfg = dict(DBNET, total_epochs=3)
    code, out, err = cli([write_json(tmp_path, cfg), "--iters-per-epoch", "2", "--json"], capsys)
    assert code == 0 and err == ""
    lrs = json.loads(out)
    poly = lambda e: (0.007 - 1e-7) * (1 - e / 3) ** 0.9 + 1e-7  # noqa: E731
    assert lrs == [pytest.approx(poly(e)) for e in (0, 0, 1, 1, 2, 2)]


def test_text_output(tmp_path, capsys):
    code, out, _ = cli([write_json(tmp_path, DBNET), "--iters-per-epoch", "63"], capsys)
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["#", "epoch", "iter", "lr"]
    assert len(lines) == 1 + 1200 * 63
    epoch, it, lr = lines[1 + 6300].split()
    assert (int(epoch), int(it), f"{float(lr):.3e}") == (100, 6300, "6.473e-03")


def test_cfg_options_and_py_config(tmp_path, capsys):
    pytest.importorskip("ocr_ds.config")
    path = tmp_path / "cfg.py"
    path.write_text("optimizer = dict(type='SGD', lr=0.1)\n"
                    "lr_config = dict(policy='step', step=[1])\n"
                    "runner = dict(type='EpochBasedRunner', max_epochs=2)\n")
    code, out, _ = cli([str(path), "--iters-per-epoch", "2", "--json", "--cfg-options",
                        "lr_config.warmup=constant", "lr_config.warmup_iters=1",
                        "lr_config.warmup_ratio=0.5"], capsys)
    assert code == 0
    assert json.loads(out) == [0.05, 0.1, pytest.approx(0.01), pytest.approx(0.01)]


@pytest.mark.parametrize("extra, message", [
    (["--cfg-options", "lr_config.warmup=cos"],
     "error: lr_config.warmup: expected one of None, 'constant', 'linear', 'exp' (got 'cos')"),
    (["--cfg-options", "total_epochs=5", "runner.type=EpochBasedRunner", "runner.max_epochs=4"],
     "error: total_epochs: expected the same as runner.max_epochs (4) (got 5)"),
    (["--iters-per-epoch", "0"], "error: --iters-per-epoch: expected a positive integer (got 0)"),
])
def test_user_errors_exit_2_with_one_line(tmp_path, capsys, extra, message):
    argv = [write_json(tmp_path, DBNET), "--iters-per-epoch", "2"] + extra
    code, out, err = cli(argv, capsys)
    assert code == 2 and out == ""
    assert err == message + "\n"


def test_plot(tmp_path, capsys):
    target = tmp_path / "lr.png"
    argv = [write_json(tmp_path, dict(DBNET, total_epochs=4)), "--iters-per-epoch", "3",
            "--plot", str(target), "--json"]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        code, out, err = cli(argv, capsys)
        assert code == 2 and out == "" and not target.exists()
        assert err.startswith("error: --plot: needs matplotlib, which is not installed")
    else:
        code, out, err = cli(argv, capsys)
        assert code == 0 and target.stat().st_size > 0
        assert len(json.loads(out)) == 12


def test_module_entry_point(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    config = write_json(tmp_path, dict(DBNET, total_epochs=2))
    ok = subprocess.run([sys.executable, "-m", "ocr_ds.tools.lr_curve", config,
                         "--iters-per-epoch", "2"], capture_output=True, text=True, env=env,
                        cwd=tmp_path, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[1].split() == ["0", "0", "7.000000e-03"]
    bad = subprocess.run([sys.executable, "-m", "ocr_ds.tools.lr_curve", config,
                          "--iters-per-epoch", "2", "--cfg-options", "lr_config.policy=cosine"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("error: lr_config.policy: unknown 'cosine'; expected one of: ")
    assert bad.stderr.count("\n") == 1
