"""``python -m benchmarks [--quick]``: every benchmark, then one summary (see run_all.py)."""
from benchmarks.run_all import main

raise SystemExit(main())
