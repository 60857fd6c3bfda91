"""Every class MMOCR 0.6.3 registers (its models, losses, convertors, datasets, loaders,
parsers, pipeline steps) can be named in an ocr_ds config too, but for the abstract bases
(README, "Nothing left out")."""
from ocr_ds import registry
from parity import ref_file

REF = ref_file(__file__, "mmocr_registry.py")
# base classes MMOCR registers that no config builds on its own
ABSTRACT = {"BaseConvertor", "BaseDataset", "BaseDecoder", "HeadMixin", "SingleStageDetector",
            "SingleStageTextDetector"}


def test_every_mmocr_name_is_ours(mmocr_ref):
    theirs = set(mmocr_ref.call(REF, "mmocr_names"))
    assert len(theirs) > 140 and {"DBNet", "CRNNNet", "OCRDataset", "ResizeOCR"} <= theirs
    tables = [v for k, v in vars(registry).items() if k.isupper() and isinstance(v, dict)]
    assert registry.PIPELINES in tables and registry.UPSAMPLE_LAYERS in tables
    ours = {name for table in tables for name in table}
    assert sorted(theirs - ours - ABSTRACT) == []
    assert ABSTRACT <= theirs                     # the lists name real classes
