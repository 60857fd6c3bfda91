"""MMOCR 0.6.3's model names for ``python -m ocr_ds.tools.ocr --det/--recog`` (the tables of
``mmocr/utils/ocr.py``): each name's config, relative to ``--config-dir``'s ``textdet/`` or
``textrecog/`` (the files of this repository's ``configs/``), and its published checkpoint,
relative to :data:`URL` + ``textdet/`` or ``textrecog/``. ``Tesseract`` is listed there and
refused here."""

URL = "https://download.openmmlab.com/mmocr/"

TEXTDET_MODELS = {
    "DB_r18": dict(
        config="dbnet/dbnet_r18_fpnc_1200e_icdar2015.py",
        ckpt="dbnet/dbnet_r18_fpnc_sbn_1200e_icdar2015_20210329-ba3ab597.pth"),
    "DB_r50": dict(
        config="dbnet/dbnet_r50dcnv2_fpnc_1200e_icdar2015.py",
        ckpt="dbnet/dbnet_r50dcnv2_fpnc_sbn_1200e_icdar2015_20211025-9fe3b590.pth"),
    "DBPP_r50": dict(
        config="dbnetpp/dbnetpp_r50dcnv2_fpnc_1200e_icdar2015.py",
        ckpt="dbnet/dbnetpp_r50dcnv2_fpnc_1200e_icdar2015-20220502-d7a76fff.pth"),
    "DRRG": dict(
        config="drrg/drrg_r50_fpn_unet_1200e_ctw1500.py",
        ckpt="drrg/drrg_r50_fpn_unet_1200e_ctw1500_20211022-fb30b001.pth"),
    "FCE_IC15": dict(
        config="fcenet/fcenet_r50_fpn_1500e_icdar2015.py",
        ckpt="fcenet/fcenet_r50_fpn_1500e_icdar2015_20211022-daefb6ed.pth"),
    "FCE_CTW_DCNv2": dict(
        config="fcenet/fcenet_r50dcnv2_fpn_1500e_ctw1500.py",
        ckpt="fcenet/fcenet_r50dcnv2_fpn_1500e_ctw1500_20211022-e326d7ec.pth"),
    "MaskRCNN_CTW": dict(
        config="maskrcnn/mask_rcnn_r50_fpn_160e_ctw1500.py",
        ckpt="maskrcnn/mask_rcnn_r50_fpn_160e_ctw1500_20210219-96497a76.pth"),
    "MaskRCNN_IC15": dict(
        config="maskrcnn/mask_rcnn_r50_fpn_160e_icdar2015.py",
        ckpt="maskrcnn/mask_rcnn_r50_fpn_160e_icdar2015_20210219-8eb340a3.pth"),
    "MaskRCNN_IC17": dict(
        config="maskrcnn/mask_rcnn_r50_fpn_160e_icdar2017.py",
        ckpt="maskrcnn/mask_rcnn_r50_fpn_160e_icdar2017_20210218-c6ec3ebb.pth"),
    "PANet_CTW": dict(
        config="panet/panet_r18_fpem_ffm_600e_ctw1500.py",
        ckpt="panet/panet_r18_fpem_ffm_sbn_600e_ctw1500_20210219-3b3a9aa3.pth"),
    "PANet_IC15": dict(
        config="panet/panet_r18_fpem_ffm_600e_icdar2015.py",
        ckpt="panet/panet_r18_fpem_ffm_sbn_600e_icdar2015_20210219-42dbe46a.pth"),
    "PS_CTW": dict(
        config="psenet/psenet_r50_fpnf_600e_ctw1500.py",
        ckpt="psenet/psenet_r50_fpnf_600e_ctw1500_20210401-216fed50.pth"),
    "PS_IC15": dict(
        config="psenet/psenet_r50_fpnf_600e_icdar2015.py",
        ckpt="psenet/psenet_r50_fpnf_600e_icdar2015_pretrain-eefd8fe6.pth"),
    "TextSnake": dict(
        config="textsnake/textsnake_r50_fpn_unet_1200e_ctw1500.py",
        ckpt="textsnake/textsnake_r50_fpn_unet_1200e_ctw1500-27f65b64.pth"),
    "Tesseract": {},
}

TEXTRECOG_MODELS = {
    "CRNN": dict(
        config="crnn/crnn_academic_dataset.py",
        ckpt="crnn/crnn_academic-a723a1c5.pth"),
    "SAR": dict(
        config="sar/sar_r31_parallel_decoder_academic.py",
        ckpt="sar/sar_r31_parallel_decoder_academic-dba3a4a3.pth"),
    "SAR_CN": dict(
        config="sar/sar_r31_parallel_decoder_chinese.py",
        ckpt="sar/sar_r31_parallel_decoder_chineseocr_20210507-b4be8214.pth"),
    "NRTR_1/16-1/8": dict(
        config="nrtr/nrtr_r31_1by16_1by8_academic.py",
        ckpt="nrtr/nrtr_r31_1by16_1by8_academic_20211124-f60cebf4.pth"),
    "NRTR_1/8-1/4": dict(
        config="nrtr/nrtr_r31_1by8_1by4_academic.py",
        ckpt="nrtr/nrtr_r31_1by8_1by4_academic_20211123-e1fdb322.pth"),
    "RobustScanner": dict(
        config="robust_scanner/robustscanner_r31_academic.py",
        ckpt="robustscanner/robustscanner_r31_academic-5f05874f.pth"),
    "SATRN": dict(
        config="satrn/satrn_academic.py",
        ckpt="satrn/satrn_academic_20211009-cb8b1580.pth"),
    "SATRN_sm": dict(
        config="satrn/satrn_small.py",
        ckpt="satrn/satrn_small_20211009-2cf13355.pth"),
    "ABINet": dict(
        config="abinet/abinet_academic.py",
        ckpt="abinet/abinet_academic-f718abf6.pth"),
    "ABINet_Vision": dict(
        config="abinet/abinet_vision_only_academic.py",
        ckpt="abinet/abinet_vision_only_academic-e6b9ea89.pth"),
    "SEG": dict(
        config="seg/seg_r31_1by16_fpnocr_academic.py",
        ckpt="seg/seg_r31_1by16_fpnocr_academic-72235b11.pth"),
    "CRNN_TPS": dict(
        config="tps/crnn_tps_academic_dataset.py",
        ckpt="tps/crnn_tps_academic_dataset_20210510-d221a905.pth"),
    "Tesseract": {},
    "MASTER": dict(
        config="master/master_r31_12e_ST_MJ_SA.py",
        ckpt="master/master_r31_12e_ST_MJ_SA-787edd36.pth"),
}

KIE_MODELS = {
    "SDMGR": dict(
        config="sdmgr/sdmgr_unet16_60e_wildreceipt.py",
        ckpt="sdmgr/sdmgr_unet16_60e_wildreceipt_20220706-57c220a6.pth"),
}
