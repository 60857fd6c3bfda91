"""Small command-line tools around ocr_ds configs (run with ``python -m ocr_ds.tools.<name>``)."""
