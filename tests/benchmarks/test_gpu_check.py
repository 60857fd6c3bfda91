"""benchmarks/gpu_check.sh end to end on the CPU (GPU_CHECK_CPU=1: bf16, 3 iterations): the
script a GPU machine runs must get as far as a report with numbers, here too."""
from __future__ import annotations

import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(tmp_path, **extra):
    env = dict(os.environ, GPU_CHECK_WORK=str(tmp_path / "work"), OUT=str(tmp_path / "out"),
               OMP_NUM_THREADS="1", **extra)
    return subprocess.run(["bash", os.path.join(ROOT, "benchmarks", "gpu_check.sh")], env=env,
                          capture_output=True, text=True, timeout=600)


def test_cpu_plumbing_run_reports_numbers(tmp_path):
    # the ZeRO memory part too, on the toy model: one ZeRO-3 run of 2 ranks
    zero_memory = (f"--config {os.path.join(ROOT, 'tests', 'fixtures', 'engine', 'toy.py')} "
                   "--stages 3 --no-compare --iters 3")
    proc = _run(tmp_path, GPU_CHECK_CPU="1", GPU_CHECK_MODELS="crnn", GPU_CHECK_ZERO="2",
                GPU_CHECK_ZERO_MEMORY="1", GPU_CHECK_ZERO_MEMORY_ARGS=zero_memory)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = (tmp_path / "out" / "gpu_check.md").read_text()
    assert "- deepspeed 0.19.8" in report
    (row,) = [line for line in report.splitlines() if line.startswith("| crnn_bf16_zero2 |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "0"                                    # exit code
    assert float(cells[3]) > 0                                # images/s
    assert int(cells[4]) > 0                                  # peak memory
    assert float(cells[6]) > 0                                # last loss, finite
    assert "## ZeRO memory (benchmarks/zero_memory.py, exit 0)" in report
    (zero3,) = [line.split() for line in report.splitlines() if line.startswith("  ocr_ds ")]
    assert zero3[:2] == ["ocr_ds", "3"]
    (row,) = json.loads((tmp_path / "work" / "zero_memory.json").read_text())
    assert row["held"] > 0 and row["peak_growth"] > 0 and row["step_s"] > 0
    assert row["zero_config"]["reduce_bucket_size"] == 2**20       # derived from the toy model
    assert (tmp_path / "out" / "logs.tar.gz").stat().st_size > 0
    assert (tmp_path / "work" / "data" / "gpu_check_recog" / "train_label.txt").exists()


def test_without_a_gpu_it_says_so_and_runs_nothing(tmp_path):
    proc = _run(tmp_path)
    assert proc.returncode == 3
    assert "gpu_check: no CUDA device; set GPU_CHECK_CPU=1" in proc.stdout
    assert not list((tmp_path / "work").glob("*.rc"))
