"""Golden cases shared by the translator tests: a config, how it is run, the exact DeepSpeed JSON.

Each expected dict is written out in full, so a change in what the translator emits shows up as
a diff here. ``test_translate_ds_parser.py`` feeds every one of them to DeepSpeed's own parser.
"""
from __future__ import annotations

from ocr_ds.translate.zero_buffers import ModelFacts

SILENT = 2**31 - 1


def _base(**extra):
    """The keys every translation writes, with the values of a world-size-1, no-clip run."""
    out = {"steps_per_print": SILENT, "wall_clock_breakdown": False}
    out.update(extra)
    return out


DBNET_OPTIMIZER = dict(type="SGD", lr=0.007, momentum=0.9, weight_decay=0.0001)
DBNET = dict(optimizer=DBNET_OPTIMIZER, optimizer_config=dict(grad_clip=None),
             data=dict(samples_per_gpu=16, workers_per_gpu=8))
CRNN = dict(optimizer=dict(type="Adadelta", lr=1.0), optimizer_config=dict(grad_clip=None),
            data=dict(samples_per_gpu=64, workers_per_gpu=4))
ADAM_CLIP = dict(optimizer=dict(type="Adam", lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-4),
                 optimizer_config=dict(grad_clip=dict(max_norm=35, norm_type=2)),
                 data=dict(samples_per_gpu=8))

DYNAMIC_FP16 = {"enabled": True, "loss_scale": 0, "initial_scale_power": 16,
                "loss_scale_window": 2000, "hysteresis": 2, "min_loss_scale": 1}
# BatchNorm cannot mix half weights with fp32 running stats: buffers follow the parameters
FP16_BUFFERS = {"buffer_dtype": "fp16"}

# Model facts for the ZeRO buffer sizes: the toy regressor of the engine tests (18 k parameters),
# a wide CRNN-like recogniser (48 M: VGG convolutions and two 1024-wide BiLSTMs) and a 1.7 G
# transformer-like model whose layers outgrow some of DeepSpeed's defaults.
SMALL = ModelFacts(tensor_numels=(16384, 256, 256, 256, 1024, 4), largest_layer=16640,
                   largest_layer_name="fc1", largest_tensor_name="fc1.weight")
MEDIUM = ModelFacts(tensor_numels=(9437184, 4718592) + (4194304,) * 8 + (1024,) * 20 + (128,) * 10,
                    largest_layer=16793600, largest_layer_name="decoder.rnn",
                    largest_tensor_name="backbone.conv5.weight")
LARGE = ModelFacts(tensor_numels=(102760448,) + (16777216,) * 96 + (4096,) * 200 + (65536,) * 24,
                   largest_layer=102760448, largest_layer_name="embed",
                   largest_tensor_name="embed.weight")
ADAM_ZERO3 = dict(ADAM_CLIP, deepspeed=dict(zero_optimization=dict(stage=3)))
ADAM_OPTIMIZER_CPU = {"type": "adam", "params": {"lr": 0.001, "betas": [0.9, 0.999],
                                                 "weight_decay": 0.0001, "adam_w_mode": False,
                                                 "torch_adam": True}}

# (id, cfg, translate kwargs, expected ds_config)
CASES = [
    ("dbnet_sgd", DBNET, dict(world_size=1), _base(
        train_batch_size=16, train_micro_batch_size_per_gpu=16, gradient_accumulation_steps=1,
        gradient_clipping=0.0,
        optimizer={"type": "SGD", "params": {"lr": 0.007, "momentum": 0.9,
                                             "weight_decay": 0.0001}})),
    ("dbnet_sgd_8gpu_cuda", DBNET, dict(world_size=8, accelerator="cuda"), _base(
        train_batch_size=128, train_micro_batch_size_per_gpu=16, gradient_accumulation_steps=1,
        gradient_clipping=0.0,
        optimizer={"type": "SGD", "params": {"lr": 0.007, "momentum": 0.9,
                                             "weight_decay": 0.0001}})),
    ("crnn_adadelta", CRNN, dict(world_size=1), _base(
        train_batch_size=64, train_micro_batch_size_per_gpu=64, gradient_accumulation_steps=1,
        gradient_clipping=0.0, optimizer={"type": "Adadelta", "params": {"lr": 1.0}})),
    ("train_dataloader_wins", dict(CRNN, data=dict(samples_per_gpu=64,
                                                   train_dataloader=dict(samples_per_gpu=32))),
     dict(world_size=2), _base(
        train_batch_size=64, train_micro_batch_size_per_gpu=32, gradient_accumulation_steps=1,
        gradient_clipping=0.0, optimizer={"type": "Adadelta", "params": {"lr": 1.0}})),
    ("no_optimizer_config", dict(optimizer=DBNET_OPTIMIZER, data=dict(samples_per_gpu=4)),
     dict(world_size=1), _base(
        train_batch_size=4, train_micro_batch_size_per_gpu=4, gradient_accumulation_steps=1,
        gradient_clipping=0.0,
        optimizer={"type": "SGD", "params": {"lr": 0.007, "momentum": 0.9,
                                             "weight_decay": 0.0001}})),
    ("adam_clip_cpu", ADAM_CLIP, dict(world_size=1), _base(
        train_batch_size=8, train_micro_batch_size_per_gpu=8, gradient_accumulation_steps=1,
        gradient_clipping=35.0,
        optimizer={"type": "adam", "params": {"lr": 0.001, "betas": [0.9, 0.999],
                                              "weight_decay": 0.0001, "adam_w_mode": False,
                                              "torch_adam": True}})),
    ("adam_clip_cuda", ADAM_CLIP, dict(world_size=2, accelerator="cuda"), _base(
        train_batch_size=16, train_micro_batch_size_per_gpu=8, gradient_accumulation_steps=1,
        gradient_clipping=35.0,
        optimizer={"type": "adam", "params": {"lr": 0.001, "betas": [0.9, 0.999],
                                              "weight_decay": 0.0001, "adam_w_mode": False}})),
    ("adamw_cpu", dict(optimizer=dict(type="AdamW", lr=4e-4), data=dict(samples_per_gpu=2)),
     dict(world_size=1), _base(
        train_batch_size=2, train_micro_batch_size_per_gpu=2, gradient_accumulation_steps=1,
        gradient_clipping=0.0,
        optimizer={"type": "adamw", "params": {"lr": 0.0004, "weight_decay": 0.01,
                                               "torch_adam": True}})),
    ("adamw_amsgrad_cuda", dict(optimizer=dict(type="AdamW", lr=4e-4, weight_decay=0.05,
                                               amsgrad=True), data=dict(samples_per_gpu=2)),
     dict(world_size=1, accelerator="cuda"), _base(
        train_batch_size=2, train_micro_batch_size_per_gpu=2, gradient_accumulation_steps=1,
        gradient_clipping=0.0,
        optimizer={"type": "adamw", "params": {"lr": 0.0004, "weight_decay": 0.05,
                                               "amsgrad": True, "torch_adam": True}})),
    ("cumulative_4_world_8", dict(DBNET, optimizer_config=dict(
        type="GradientCumulativeOptimizerHook", cumulative_iters=4,
        grad_clip=dict(max_norm=20.0))), dict(world_size=8), _base(
        train_batch_size=512, train_micro_batch_size_per_gpu=16, gradient_accumulation_steps=4,
        gradient_clipping=20.0,
        optimizer={"type": "SGD", "params": {"lr": 0.007, "momentum": 0.9,
                                             "weight_decay": 0.0001}})),
    ("fp16_static_cuda", dict(DBNET, fp16=dict(loss_scale=512.)), dict(world_size=1,
                                                                       accelerator="cuda"), _base(
        train_batch_size=16, train_micro_batch_size_per_gpu=16, gradient_accumulation_steps=1,
        gradient_clipping=0.0, fp16={"enabled": True, "loss_scale": 512.0}, data_types=FP16_BUFFERS,
        optimizer={"type": "SGD", "params": {"lr": 0.007, "momentum": 0.9,
                                             "weight_decay": 0.0001}})),
    ("fp16_dynamic_cuda", dict(DBNET, fp16=dict(loss_scale="dynamic")),
     dict(world_size=1, accelerator="cuda"), _base(
        train_batch_size=16, train_micro_batch_size_per_gpu=16, gradient_accumulation_steps=1,
        gradient_clipping=0.0, fp16=DYNAMIC_FP16, data_types=FP16_BUFFERS,
        optimizer={"type": "SGD", "params": {"lr": 0.007, "momentum": 0.9,
                                             "weight_decay": 0.0001}})),
    ("fp16_dict_cuda", dict(DBNET, fp16=dict(loss_scale=dict(init_scale=2.**10,
                                                            growth_interval=500))),
     dict(world_size=1, accelerator="cuda"), _base(
        train_batch_size=16, train_micro_batch_size_per_gpu=16, gradient_accumulation_steps=1,
        gradient_clipping=0.0, fp16=dict(DYNAMIC_FP16, initial_scale_power=10,
                                         loss_scale_window=500), data_types=FP16_BUFFERS,
        optimizer={"type": "SGD", "params": {"lr": 0.007, "momentum": 0.9,
                                             "weight_decay": 0.0001}})),
    ("fp16_hook_cuda", dict(DBNET, optimizer_config=dict(
        type="GradientCumulativeFp16OptimizerHook", cumulative_iters=2, loss_scale=256.,
        grad_clip=dict(max_norm=5))), dict(world_size=2, accelerator="cuda"), _base(
        train_batch_size=64, train_micro_batch_size_per_gpu=16, gradient_accumulation_steps=2,
        gradient_clipping=5.0, fp16={"enabled": True, "loss_scale": 256.0}, data_types=FP16_BUFFERS,
        optimizer={"type": "SGD", "params": {"lr": 0.007, "momentum": 0.9,
                                             "weight_decay": 0.0001}})),
    ("bf16_cpu", dict(CRNN, bf16=dict(enabled=True)), dict(world_size=1), _base(
        train_batch_size=64, train_micro_batch_size_per_gpu=64, gradient_accumulation_steps=1,
        gradient_clipping=0.0, bf16={"enabled": True}, data_types={"buffer_dtype": "bf16"},
        optimizer={"type": "Adadelta", "params": {"lr": 1.0}})),
    ("autocast_bf16_cpu", dict(CRNN, autocast=dict(
        dtype="bfloat16", lower_precision_safe_modules=["torch.nn.modules.conv.Conv2d",
                                                        "torch.nn.modules.linear.Linear"])),
     dict(world_size=1), _base(
        train_batch_size=64, train_micro_batch_size_per_gpu=64, gradient_accumulation_steps=1,
        gradient_clipping=0.0,
        torch_autocast={"enabled": True, "dtype": "bfloat16",
                        "lower_precision_safe_modules": ["torch.nn.modules.conv.Conv2d",
                                                         "torch.nn.modules.linear.Linear"]},
        optimizer={"type": "Adadelta", "params": {"lr": 1.0}})),
    ("autocast_fp16_cuda", dict(CRNN, autocast=dict(dtype="float16")),
     dict(world_size=1, accelerator="cuda"), _base(
        train_batch_size=64, train_micro_batch_size_per_gpu=64, gradient_accumulation_steps=1,
        gradient_clipping=0.0, torch_autocast={"enabled": True, "dtype": "float16"},
        optimizer={"type": "Adadelta", "params": {"lr": 1.0}})),
    ("zero2_sgd_untested", dict(DBNET, deepspeed=dict(zero_optimization=dict(stage=2))),
     dict(world_size=2), _base(
        train_batch_size=32, train_micro_batch_size_per_gpu=16, gradient_accumulation_steps=1,
        gradient_clipping=0.0, zero_optimization={"stage": 2},
        zero_allow_untested_optimizer=True,
        optimizer={"type": "SGD", "params": {"lr": 0.007, "momentum": 0.9,
                                             "weight_decay": 0.0001}})),
    ("zero3_offload_adam", dict(ADAM_CLIP, deepspeed=dict(zero_optimization=dict(
        stage=3, offload_optimizer=dict(device="cpu"), offload_param=dict(device="cpu")))),
     dict(world_size=1), _base(
        train_batch_size=8, train_micro_batch_size_per_gpu=8, gradient_accumulation_steps=1,
        gradient_clipping=35.0,
        zero_optimization={"stage": 3, "offload_optimizer": {"device": "cpu"},
                           "offload_param": {"device": "cpu"}},
        optimizer={"type": "adam", "params": {"lr": 0.001, "betas": [0.9, 0.999],
                                              "weight_decay": 0.0001, "adam_w_mode": False,
                                              "torch_adam": True}})),
    # small model: buckets at the 2**20-element floor; gathers sized by the largest layer
    # (16,640, rounded up to 1,024s: more than 1/4 of the model); tensors of <= 256 elements
    # (5 % budget: 909) stay whole
    ("zero3_small_model", ADAM_ZERO3, dict(world_size=2, model_facts=SMALL), _base(
        train_batch_size=16, train_micro_batch_size_per_gpu=8, gradient_accumulation_steps=1,
        gradient_clipping=35.0, optimizer=ADAM_OPTIMIZER_CPU,
        zero_optimization={"stage": 3, "reduce_bucket_size": 2**20, "sub_group_size": 2**20,
                           "stage3_prefetch_bucket_size": 17408,
                           "stage3_max_live_parameters": 3 * 17408,
                           "stage3_max_reuse_distance": 17408,
                           "stage3_param_persistence_threshold": 256,
                           "stage3_model_persistence_threshold": 909})),
    # medium model: buckets of 1/8 of its 47.7 M parameters (5,966,496, rounded up to 1,024s);
    # gathers sized by its largest layer (the 16.8 M-element BiLSTM, more than 1/4 of it)
    ("zero2_medium_model", dict(ADAM_CLIP, deepspeed=dict(zero_optimization=dict(stage=2))),
     dict(world_size=2, model_facts=MEDIUM), _base(
        train_batch_size=16, train_micro_batch_size_per_gpu=8, gradient_accumulation_steps=1,
        gradient_clipping=35.0, optimizer=ADAM_OPTIMIZER_CPU,
        zero_optimization={"stage": 2, "reduce_bucket_size": 5966848,
                           "allgather_bucket_size": 5966848})),
    ("zero3_medium_model", ADAM_ZERO3, dict(world_size=2, model_facts=MEDIUM), _base(
        train_batch_size=16, train_micro_batch_size_per_gpu=8, gradient_accumulation_steps=1,
        gradient_clipping=35.0, optimizer=ADAM_OPTIMIZER_CPU,
        zero_optimization={"stage": 3, "reduce_bucket_size": 5966848, "sub_group_size": 5966848,
                           "stage3_prefetch_bucket_size": 16793600,
                           "stage3_max_live_parameters": 3 * 16793600,
                           "stage3_max_reuse_distance": 16793600,
                           "stage3_param_persistence_threshold": 1024,
                           "stage3_model_persistence_threshold": 2386598})),
    # the user's values are kept, under either spelling; "auto" means derived
    ("zero3_medium_model_user_sizes", dict(ADAM_CLIP, deepspeed=dict(zero_optimization=dict(
        stage=3, reduce_bucket_size=123456, prefetch_bucket_size=1000, sub_group_size="auto"))),
     dict(world_size=2, model_facts=MEDIUM,
          ds_overrides={"zero_optimization": {"stage3_max_live_parameters": 10**9}}), _base(
        train_batch_size=16, train_micro_batch_size_per_gpu=8, gradient_accumulation_steps=1,
        gradient_clipping=35.0, optimizer=ADAM_OPTIMIZER_CPU,
        zero_optimization={"stage": 3, "reduce_bucket_size": 123456, "prefetch_bucket_size": 1000,
                           "stage3_max_live_parameters": 10**9, "sub_group_size": 5966848,
                           "stage3_max_reuse_distance": 16793600,
                           "stage3_param_persistence_threshold": 1024,
                           "stage3_model_persistence_threshold": 2386598})),
    # large model on GPUs: buckets of 1/8 of 1.7 G; a quarter of it kept for reuse, the
    # prefetch capped at DeepSpeed's default 5e7, tensors of <= 1e5 elements whole (DeepSpeed's)
    ("zero3_large_model_8gpu", dict(ADAM_ZERO3), dict(world_size=8, accelerator="cuda",
                                                      model_facts=LARGE), _base(
        train_batch_size=64, train_micro_batch_size_per_gpu=8, gradient_accumulation_steps=1,
        gradient_clipping=35.0,
        optimizer={"type": "adam", "params": {"lr": 0.001, "betas": [0.9, 0.999],
                                              "weight_decay": 0.0001, "adam_w_mode": False}},
        zero_optimization={"stage": 3, "reduce_bucket_size": 214470656,
                           "sub_group_size": 214470656, "stage3_prefetch_bucket_size": 50000000,
                           "stage3_max_live_parameters": 428941312 + 50000000 + 102760448,
                           "stage3_max_reuse_distance": 428941312,
                           "stage3_param_persistence_threshold": 100000,
                           "stage3_model_persistence_threshold": 85788262})),
    # ZeRO-0 reads no buffer size: nothing derived
    ("zero0_medium_model", dict(ADAM_CLIP, deepspeed=dict(zero_optimization=dict(stage=0))),
     dict(world_size=2, model_facts=MEDIUM), _base(
        train_batch_size=16, train_micro_batch_size_per_gpu=8, gradient_accumulation_steps=1,
        gradient_clipping=35.0, optimizer=ADAM_OPTIMIZER_CPU, zero_optimization={"stage": 0})),
    ("user_overrides", dict(DBNET, deepspeed=dict(
        train_micro_batch_size_per_gpu=8, gradient_clipping=1.0, steps_per_print=50,
        optimizer=dict(params=dict(lr=0.01)))),
     dict(world_size=4, ds_overrides={"gradient_clipping": 2.0, "train_batch_size": "auto"}),
     _base(train_batch_size=32, train_micro_batch_size_per_gpu=8, gradient_accumulation_steps=1,
           gradient_clipping=2.0, steps_per_print=50,
           optimizer={"type": "SGD", "params": {"lr": 0.01, "momentum": 0.9,
                                                "weight_decay": 0.0001}})),
    ("user_batch_only", DBNET, dict(world_size=2, ds_overrides={"train_batch_size": 128}),
     _base(train_batch_size=128, train_micro_batch_size_per_gpu=16, gradient_accumulation_steps=4,
           gradient_clipping=0.0,
           optimizer={"type": "SGD", "params": {"lr": 0.007, "momentum": 0.9,
                                                "weight_decay": 0.0001}})),
]
