"""Speed and memory benchmarks (see README.md here); ``python -m benchmarks`` runs them all."""
