"""PANet (Wang et al., "Efficient and Accurate Arbitrary-Shaped Text Detection with Pixel
Aggregation Network"), as MMOCR 0.6.3 builds, trains and decodes it.

* :mod:`.panet` -- the detector (``ResNet -> FPEM_FFM -> PANHead``);
* :mod:`.fpem_ffm` -- the neck: feature pyramid enhancement modules, then feature fusion;
* :mod:`.head` -- ``PANHead``: one 1x1 conv to text, kernel and 4 embedding channels;
* :mod:`.loss` -- ``PANLoss``: text and kernel dice, aggregation and discrimination losses;
* :mod:`.postprocessor` / :mod:`.pixel_group` -- kernels grown into text instances by their
  embeddings (mmcv's compiled ``pixel_group``, written with numpy and OpenCV).

Targets: :class:`ocr_ds.datasets.pipelines.targets.panet.PANetTargets`.
"""
