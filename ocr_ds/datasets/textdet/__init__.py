"""Text detection data: ``IcdarDataset`` (COCO JSON or native ICDAR 2015 txt files) and
``TextDetDataset`` (MMOCR's JSON lines)."""
