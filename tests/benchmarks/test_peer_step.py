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
    assert "peer_step:" in proc.stdout and "crnn   default" in proc.stdout


def test_gpu_only_settings_are_refused_on_the_cpu():
    proc = subprocess.run([sys.executable, SCRIPT, "--settings", "fp16"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "fp16, fp16_autocast, bf16_ds and mmocr_fp16 need --device cuda" in proc.stderr
