"""MMOCR 0.6.3's ``tools/deployment``: ``pytorch2onnx``, ``deploy_test`` (ONNX Runtime), and
``onnx2tensorrt``, which says what to use instead."""
