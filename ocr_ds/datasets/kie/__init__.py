"""Key information extraction datasets: ``KIEDataset`` (``macro_f1``) and
``OpensetKIEDataset`` (``openset_f1``), MMOCR 0.6.3's annotation format."""
