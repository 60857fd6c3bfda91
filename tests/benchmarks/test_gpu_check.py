"""benchmarks/gpu_check.sh end to end on the CPU (GPU_CHECK_CPU=1: bf16, 3 iterations): the
script a GPU machine runs must get as far as a report with numbers, here too."""
from __future__ import annotations

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(tmp_path, **extra):
    env = dict(os.environ, GPU_CHECK_WORK=str(tmp_path / "work"), OUT=str(tmp_path / "out"),
               OMP_NUM_THREADS="1", **extra)
    return subprocess.run(["bash", os.path.join(ROOT, "benchmarks", "gpu_check.sh")], env=env,
                          capture_output=True, text=True, timeout=600)


def test_cpu_plumbing_run_reports_numbers(tmp_path):
    proc = _run(tmp_path, GPU_CHECK_CPU="1", GPU_CHECK_MODELS="crnn", GPU_CHECK_ZERO="2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = (tmp_path / "out" / "gpu_check.md").read_text()
    assert "- deepspeed 0.19.8" in report
    (row,) = [line for line in report.splitlines() if line.startswith("| crnn_bf16_zero2 |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "0"                                    # exit code
    assert float(cells[3]) > 0                                # images/s
    assert int(cells[4]) > 0                                  # peak memory
    assert float(cells[6]) > 0                                # last loss, finite
    assert (tmp_path / "out" / "logs.tar.gz").stat().st_size > 0
    assert (tmp_path / "work" / "data" / "gpu_check_recog" / "train_label.txt").exists()


def test_without_a_gpu_it_says_so_and_runs_nothing(tmp_path):
    proc = _run(tmp_path)
    assert proc.returncode == 3
    assert "gpu_check: no CUDA device; set GPU_CHECK_CPU=1" in proc.stdout
    assert not list((tmp_path / "work").glob("*.rc"))
