"""DBNet and DBNet++ (MMOCR 0.6.3's ``DBNet`` with ``FPNC``, ``DBHead``, ``DBLoss``,
``DBPostprocessor``), module for module.

* :mod:`.model` -- ``DBNet``: backbone (mmdet's ResNet, DCNv2 stages for R50-DCN) -> ``FPNC``
  -> ``DBHead``.
* :mod:`.neck` -- ``FPNC``, with DBNet++'s adaptive scale fusion (``asf_cfg``).
* :mod:`.head` -- ``DBHead``: probability, threshold and approximate binary maps.
* :mod:`.loss` -- ``DBLoss``: balanced BCE (or dice), dice on the binary map, masked L1.
* :mod:`.postprocess` -- ``DBPostprocessor``: probability map -> boundaries.

Each class has MMOCR's state-dict names, its effective initialisation and its arithmetic;
``tests/models/dbnet/test_dbnet_parity.py`` compares them with MMOCR's own code.
"""
