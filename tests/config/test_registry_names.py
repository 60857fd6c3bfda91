"""Every class MMOCR 0.6.3 registers (its models, losses, convertors, datasets, loaders,
parsers, pipeline steps) can be named in an ocr_ds config too, but for the abstract bases
(README, "Nothing left out")."""
from ocr_ds import registry
from parity import ref_file

REF = ref_file(__file__, "mmocr_registry.py")
# base classes MMOCR registers that no config builds on its own
ABSTRACT = {"BaseConvertor", "BaseDataset", "BaseDecoder", "HeadMixin", "SingleStageDetector",
            "SingleStageTextDetector"}
# MMOCR's deployment wrappers (registered once onnxruntime imports; its tools build them from an
# exported file, no config names them): ocr_ds.deployment has the ONNX Runtime ones under these
# names; TensorRT's are not here (no TensorRT runtime: README, Tools)
DEPLOYMENT = {"ONNXRuntimeDetector", "ONNXRuntimeRecognizer", "TensorRTDetector",
              "TensorRTRecognizer"}


def test_every_mmocr_name_is_ours(mmocr_ref):
    theirs = set(mmocr_ref.call(REF, "mmocr_names"))
    assert len(theirs) > 140 and {"DBNet", "CRNNNet", "OCRDataset", "ResizeOCR"} <= theirs
    tables = [v for k, v in vars(registry).items() if k.isupper() and isinstance(v, dict)]
    assert registry.PIPELINES in tables and registry.UPSAMPLE_LAYERS in tables
    ours = {name for table in tables for name in table}
    assert sorted(theirs - ours - ABSTRACT - DEPLOYMENT) == []
    assert ABSTRACT | DEPLOYMENT <= theirs        # the lists name real classes
    import ocr_ds.deployment

    assert {"ONNXRuntimeDetector", "ONNXRuntimeRecognizer"} <= set(dir(ocr_ds.deployment))
