"""The README table of what the translator maps where, kept next to the code that does it.

``TRANSLATION_TABLE`` is the single source: ``render_markdown_table()`` prints it for the
README, and a test checks that every key the translator emits is listed.
"""
from __future__ import annotations

#: (config key, DeepSpeed key, note) rows, in the order the README shows them.
TRANSLATION_TABLE: list[tuple[str, str, str]] = [
    ("optimizer.type", "optimizer.type",
     "DeepSpeed's own names (adagrad, adam, adamw, lamb, lion, muadam, muadamw, musgd, muon; any "
     "case) are written lower-case; other names must be torch.optim classes, spelt as torch "
     "spells them (SGD, Adadelta, RMSprop, ...). LBFGS, SparseAdam and the removed 1-bit "
     "optimizers are refused"),
    ("optimizer.<other keys>", "optimizer.params",
     "passed through (lr, momentum, weight_decay, betas, ...); max_grad_norm, paramwise_cfg and "
     "custom constructors are refused"),
    ("optimizer.type='Adam'", "optimizer.params.adam_w_mode",
     "false: torch.optim.Adam semantics (L2 weight decay, as mmcv); DeepSpeed's 'adam' would "
     "otherwise be AdamW. 'AdamW' stays decoupled, weight_decay defaulting to torch's 0.01"),
    ("(accelerator cpu, adam/adamw)", "optimizer.params.torch_adam",
     "true: torch.optim.Adam/AdamW, so DeepSpeed JIT-compiles no FusedAdam/CPUAdam op; also "
     "on cuda when a param FusedAdam lacks (amsgrad, ...) is given"),
    ("(ZeRO stage >= 1, optimizer not adam/adamw/adagrad/lion)",
     "zero_allow_untested_optimizer", "true; otherwise deepspeed.initialize asserts (SGD, "
     "Adadelta, ...)"),
    ("optimizer_config.grad_clip.max_norm", "gradient_clipping",
     "always written: 0.0 when grad_clip is None or optimizer_config is absent (DeepSpeed 0.19 "
     "defaults to 1.0); norm_type must be 2 (DeepSpeed clips by global L2 norm)"),
    ("optimizer_config.cumulative_iters", "gradient_accumulation_steps",
     "GradientCumulative(Fp16)OptimizerHook; 1 for OptimizerHook/Fp16OptimizerHook or no "
     "optimizer_config"),
    ("data.samples_per_gpu, data.train_dataloader.samples_per_gpu",
     "train_micro_batch_size_per_gpu", "the train_dataloader value wins, as in mmcv"),
    ("(micro x accumulation x world_size)", "train_batch_size",
     "DeepSpeed's batch identity; user values that break it are an error"),
    ("fp16.loss_scale=<number>", "fp16.enabled, fp16.loss_scale",
     "static scale; optimizer_config.type='Fp16OptimizerHook' (with its own loss_scale, default "
     "512) turns fp16 on too. Refused on the cpu accelerator"),
    ("fp16.loss_scale='dynamic'", "fp16.loss_scale=0, fp16.initial_scale_power, "
     "fp16.loss_scale_window",
     "dynamic scale with torch GradScaler's defaults: `2**16`, 2000 steps"),
    ("fp16.loss_scale=dict(init_scale, growth_interval)",
     "fp16.initial_scale_power, fp16.loss_scale_window",
     "log2(init_scale) (a power of two); growth_factor/backoff_factor only 2.0/0.5"),
    ("(dynamic fp16)", "fp16.hysteresis, fp16.min_loss_scale",
     "DeepSpeed's defaults 2 and 1 (no mmcv key; torch's GradScaler halves the "
     "scale on the first overflow, DeepSpeed on the second, and never goes below 1)"),
    ("bf16.enabled (ocr_ds key)", "bf16.enabled",
     "plus any of DeepSpeed's bf16 options given; fp16 and bf16 together are an error"),
    ("(fp16 or bf16 on)", "data_types.buffer_dtype",
     "the same half type: DeepSpeed 0.19 keeps buffers fp32, and BatchNorm cannot mix half "
     "weights with fp32 running statistics"),
    ("autocast.dtype (ocr_ds key)", "torch_autocast.enabled, torch_autocast.dtype",
     "'bfloat16' or 'float16'; the model stays fp32 under torch.autocast (closest to mmcv's fp16)"),
    ("autocast.lower_precision_safe_modules", "torch_autocast.lower_precision_safe_modules",
     "full class names, e.g. torch.nn.modules.conv.Conv2d"),
    ("fused_optimizer=True (ocr_ds key)", "optimizer.params.fused or optimizer.params.foreach",
     "torch.optim's fused kernel (SGD, Adam, AdamW, Adagrad) or else its multi-tensor one "
     "(Adadelta, RMSprop, ...); DeepSpeed's adam/adamw run FusedAdam on GPUs anyway; an explicit "
     "fused/foreach wins"),
    ("compile=True or dict(backend, mode, dynamic, fullgraph, options) (ocr_ds key)",
     "(engine.compile(backend, compile_kwargs))",
     "torch.compile through DeepSpeed's engine.compile() after initialize; DeepSpeed's "
     "DeepCompile options go in deepspeed.compile and turn it on too"),
    ("channels_last=True (ocr_ds key)", "(none)",
     "the model and the 'img' batches in channels-last memory format (not a DeepSpeed setting)"),
    ("deepspeed (config section), then --deepspeed-config FILE",
     "(any key, deep-merged)",
     "explicit DeepSpeed values win over translated ones, with a note giving both; \"auto\" "
     "takes the translated value"),
    ("deepspeed.zero_optimization", "zero_optimization",
     "only from the DeepSpeed section; stage 0-3; offload_optimizer/offload_param pass through"),
    ("(ZeRO stage >= 1, the model's parameter sizes)",
     "zero_optimization.reduce_bucket_size, allgather_bucket_size, sub_group_size, "
     "stage3_prefetch_bucket_size, stage3_max_live_parameters, stage3_max_reuse_distance, "
     "stage3_param_persistence_threshold, stage3_model_persistence_threshold",
     "each one the stage reads and the user did not set (or set to \"auto\"): sized from the "
     "model's parameter count and largest layer instead of DeepSpeed's billion-parameter defaults, never above them; "
     "the notes (--dry-run) give each value and why"),
    ("deepspeed.scheduler", "(refused)",
     "the lr is driven from lr_config by ocr_ds; a DeepSpeed scheduler would fight it"),
    ("lr_config", "(none)", "not a DeepSpeed setting: ocr_ds writes each param group's lr"),
    ("momentum_config", "(none)", "not a DeepSpeed setting: ocr_ds writes each param group's "
     "momentum (or betas[0])"),
    ("(none)", "steps_per_print",
     "`2**31 - 1` (silences DeepSpeed's own progress lines) unless set"),
    ("(none)", "wall_clock_breakdown", "false unless set"),
]


def render_markdown_table() -> str:
    """The table as GitHub markdown, one row per ``TRANSLATION_TABLE`` entry."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    def key(text: str) -> str:   # keys as code; "(explanations)" as plain text
        return cell(text) if text.startswith("(") else f"`{cell(text)}`"

    lines = ["| config key | DeepSpeed key | note |", "|---|---|---|"]
    lines += [f"| {key(cfg)} | {key(ds)} | {cell(note)} |" for cfg, ds, note in TRANSLATION_TABLE]
    return "\n".join(lines) + "\n"
