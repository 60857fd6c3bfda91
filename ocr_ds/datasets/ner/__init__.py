"""Named entity recognition data: ``NerDataset`` (MMOCR 0.6.3's, CLUENER-style JSON lines)."""
