"""benchmarks/peer_step.py end to end on the CPU, quick: MMOCR 0.6.3's own training step (the
reference venv) and ours on the same CRNN weights and batch; the first losses must agree (the
weights loaded completely, the same loss), and the table and JSON rows must come out."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "benchmarks", "peer_step.py")


def test_quick_crnn_round_gives_equal_first_losses_and_ratios(mmocr_ref, tmp_path):
    out = tmp_path / "rows.json"
    proc = subprocess.run(
        [sys.executable, SCRIPT, "--quick", "--models", "crnn", "--rounds", "1", "--steps", "1",
         "--settings", "default", "best", "--ref-python", str(mmocr_ref.venv / "bin" / "python"),
         "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    rows = {r["setting"]: r for r in json.loads(out.read_text())}
    assert set(rows) == {"mmocr", "default", "best"}
    assert all("failed" not in r for r in rows.values())
    assert rows["mmocr"]["ratio"] == 1.0 and rows["default"]["vs"] == "mmocr"
    assert abs(rows["default"]["first_loss"] - rows["mmocr"]["first_loss"]) < 1e-5
    assert abs(rows["best"]["first_loss"] - rows["mmocr"]["first_loss"]) < 1e-4
    assert all(r["step_ms"] > 0 and r["ratio"] > 0 for r in rows.values())
    # fp32: nothing to skip; the column counts the timed steps
    assert all((r["skipped"], r["timed_steps"]) == (0, 1) for r in rows.values())
    assert "peer_step:" in proc.stdout and "crnn   default" in proc.stdout


def test_gpu_only_settings_are_refused_on_the_cpu():
    proc = subprocess.run([sys.executable, SCRIPT, "--settings", "fp16"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "fp16, fp16_autocast, fp16_zero1, bf16_ds and mmocr_fp16 need --device cuda" in proc.stderr


def test_scale_drops_counts_the_steps_a_loss_scaler_skipped():
    """A GradScaler halves its scale on an overflow (a skipped step) and doubles it after
    ``growth_interval`` clean steps: only the drops are skipped steps."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    from peer_batch import scale_drops

    scales = iter([65536.0, 32768.0, 32768.0, 65536.0, 16384.0, 8192.0, 8192.0])
    count = scale_drops(lambda: next(scales))
    assert [count() for _ in range(6)] == [1, 1, 1, 2, 3, 3]


def test_scale_drops_reads_torchs_grad_scaler():
    import torch

    scaler = torch.amp.GradScaler("cpu", init_scale=4.0, growth_interval=1)
    weight = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([weight], lr=0.1)
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    from peer_batch import scale_drops

    count = scale_drops(scaler.get_scale)
    for value in (1.0, float("inf"), 1.0, float("nan")):
        opt.zero_grad()
        scaler.scale((weight * value).sum()).backward()
        scaler.step(opt)
        scaler.update()
        count()
    assert count() == 2
    assert torch.allclose(weight.detach(), torch.full((2,), 0.8))   # two updates of 0.1


def test_every_setting_translates_for_its_device():
    """A setting whose keys the translator refuses would fail only on the lent GPU, where the
    device time is short: each must translate for CUDA (and the CPU ones for the CPU)."""
    sys.path.insert(0, ROOT)
    from benchmarks.peer_step import CONFIGS, SETTINGS
    from ocr_ds.config import Config
    from ocr_ds.translate import translate

    gpu_only = {"fp16", "fp16_autocast", "fp16_zero1", "bf16_ds"}
    for model, path in CONFIGS.items():
        for name, (overrides, _) in SETTINGS.items():
            for accelerator in ("cuda",) if name in gpu_only else ("cuda", "cpu"):
                cfg = Config.fromfile(os.path.join(ROOT, path))
                cfg.merge_from_dict({k: v for k, v in overrides.items() if k != "cpu_malloc"})
                ds = translate(cfg, world_size=1, accelerator=accelerator).ds_config
                assert ds.get("fp16", {}).get("enabled", False) == ("fp16" in overrides)
                if name == "fp16_zero1":
                    assert ds["zero_optimization"]["stage"] == 1
