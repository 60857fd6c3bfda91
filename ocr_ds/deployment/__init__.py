"""Deployment: ONNX export and ONNX Runtime models (MMOCR 0.6.3's ``mmocr.core.deployment``).

The command-line tools are :mod:`ocr_ds.tools.deployment` (``pytorch2onnx``, ``deploy_test``).
"""
from ocr_ds.deployment.onnx import (ONNXRuntimeDetector, ONNXRuntimeRecognizer,
                                    export_onnx, model_kind, onnxruntime_model)

__all__ = ["ONNXRuntimeDetector", "ONNXRuntimeRecognizer", "export_onnx", "model_kind",
           "onnxruntime_model"]
