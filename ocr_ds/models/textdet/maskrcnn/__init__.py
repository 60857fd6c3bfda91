"""MMOCR 0.6.3's Mask R-CNN text detector (``OCRMaskRCNN``) and the mmdet 2.28.2 two-stage
parts it is built from: anchors and box coding, assigner and samplers, RPN head, RoI
extractor, box head, mask head."""
