"""Training-target steps of the detection families, one module per family."""
