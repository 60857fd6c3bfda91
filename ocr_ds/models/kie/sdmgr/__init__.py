"""SDMGR (Sun et al., 2021, "Spatial Dual-Modality Graph Reasoning for Key Information
Extraction"), as MMOCR 0.6.3 has it: :mod:`.sdmgr` (the model), :mod:`.head` (``SDMGRHead``:
text LSTM, optional visual fusion, GNN layers, node and edge classifiers), :mod:`.loss`."""
