"""Text detection data: ``IcdarDataset`` (COCO JSON or native ICDAR 2015 txt files)."""
