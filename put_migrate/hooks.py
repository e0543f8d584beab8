"""Which hooks may call ``self.log``, and with which defaults (data only; no torch or Lightning import).

Transcribed from ``_FxValidator.functions`` in
``lightning/pytorch/trainer/connectors/logger_connector/fx_validator.py`` (Lightning 2.6.6; the same table exists in
``pytorch_lightning``). See SELF_LOG_SEMANTICS.md §1. A Callback hook uses the row of the module hook of the same
name (its parameters are shifted by ``trainer, pl_module``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Stage = Literal["train", "validation", "test", "predict"]  # "predict": only calls that raise (PREDICT_STEP)
# "batch": runs once per batch and sees the batch (step hooks); "step_other": runs once per batch but has no batch
# parameter (backward, optimizer hooks); "epoch": start / epoch start / epoch end hooks (epoch values only).
HookKind = Literal["batch", "step_other", "epoch"]


@dataclass(frozen=True)
class HookSpec:
    name: str
    stage: Stage
    kind: HookKind
    default_on_step: bool
    default_on_epoch: bool
    # Position of the batch / dataloader_idx parameter, not counting ``self`` (nor ``trainer, pl_module`` in a
    # Callback). ``None``: the hook has no such parameter.
    batch_param: int | None = None
    dataloader_idx_param: int | None = None

    @property
    def epoch_only(self) -> bool:
        """Lightning only accepts ``on_step=False, on_epoch=True`` here (FXV:178-189)."""
        return self.kind == "epoch"


def _train_step(name: str, batch: int | None = None) -> HookSpec:
    return HookSpec(name, "train", "batch" if batch is not None else "step_other", True, False, batch)


def _eval_step(name: str, stage: Stage, batch: int, dataloader_idx: int) -> HookSpec:
    return HookSpec(name, stage, "batch", False, True, batch, dataloader_idx)


def _epoch(name: str, stage: Stage) -> HookSpec:
    return HookSpec(name, stage, "epoch", False, True)


_ALLOWED = [
    _train_step("training_step", batch=0),
    _train_step("on_train_batch_start", batch=0),
    _train_step("on_train_batch_end", batch=1),
    *(
        _train_step(name)
        for name in (
            "on_before_backward",
            "backward",
            "on_after_backward",
            "on_before_optimizer_step",
            "optimizer_step",
            "configure_gradient_clipping",
            "clip_gradients",
            "on_before_zero_grad",
            "optimizer_zero_grad",
        )
    ),
    _eval_step("validation_step", "validation", batch=0, dataloader_idx=2),
    _eval_step("on_validation_batch_start", "validation", batch=0, dataloader_idx=2),
    _eval_step("on_validation_batch_end", "validation", batch=1, dataloader_idx=3),
    _eval_step("test_step", "test", batch=0, dataloader_idx=2),
    _eval_step("on_test_batch_start", "test", batch=0, dataloader_idx=2),
    _eval_step("on_test_batch_end", "test", batch=1, dataloader_idx=3),
    *(_epoch(f"on_train_{when}", "train") for when in ("start", "epoch_start", "epoch_end")),
    *(_epoch(f"on_validation_{when}", "validation") for when in ("start", "epoch_start", "epoch_end")),
    *(_epoch(f"on_test_{when}", "test") for when in ("start", "epoch_start", "epoch_end")),
]

# ``predict_step`` has no result collection: Lightning's ``log`` raises this there (unless Trainer(barebones=True),
# where it returns). Only calls a ``log`` guard lets through in some cases run under it (analyze/log_guard.py).
PREDICT_STEP = HookSpec("predict_step", "predict", "batch", False, False)
PREDICT_LOG_ERROR = (
    "You are trying to `self.log()` but the loop's result collection is not registered yet. This is most likely"
    " because you are trying to log in a `predict` hook, but it doesn't support logging"
)

# Hooks where Lightning raises "You can't `self.log()` inside ..." (the ``None`` rows of ``_FxValidator.functions``).
FORBIDDEN_HOOKS = frozenset(
    {
        "lr_scheduler_step",
        "on_fit_start",
        "on_fit_end",
        "on_sanity_check_start",
        "on_sanity_check_end",
        "on_train_end",
        "on_validation_end",
        "on_test_end",
        "on_predict_start",
        "on_predict_end",
        "on_predict_epoch_start",
        "on_predict_epoch_end",
        "on_before_batch_transfer",
        "transfer_batch_to_device",
        "on_after_batch_transfer",
        "on_predict_batch_start",
        "on_predict_batch_end",
        "on_exception",
        "state_dict",
        "on_save_checkpoint",
        "on_load_checkpoint",
        "load_state_dict",
        "setup",
        "teardown",
        "configure_sharded_model",
        "configure_model",
        "predict_step",
        "configure_optimizers",
        "train_dataloader",
        "val_dataloader",
        "test_dataloader",
        "prepare_data",
        "configure_callbacks",
        "on_validation_model_zero_grad",
        "on_validation_model_eval",
        "on_test_model_eval",
        "on_validation_model_train",
        "on_test_model_train",
    }
)

HOOKS: dict[str, HookSpec] = {spec.name: spec for spec in _ALLOWED}

# The compute hooks the shim calls where Lightning computes epoch aggregates (docs/design/generated-code.md).
COMPUTE_HOOKS: dict[Stage, str] = {
    "train": "on_train_epoch_compute",
    "validation": "on_validation_epoch_compute",
    "test": "on_test_epoch_compute",
}

# Where Lightning resets logged Metric objects (SELF_LOG_SEMANTICS.md §3.4): with the stage's results. The shim calls
# the generated hooks there: after every ``on_train_epoch_end`` hook, after every ``on_validation_end`` /
# ``on_test_end`` hook; generated, so no user override can skip them.
METRIC_RESET_HOOKS: dict[Stage, str] = {
    "train": "on_train_results_reset",
    "validation": "on_validation_results_reset",
    "test": "on_test_results_reset",
}


# Attributes of LightningModule, Callback and nn.Module (Lightning 2.6.6, torch 2.x, without dunders): a new
# aggregator attribute must not shadow any of them (a metric called "train" must not replace nn.Module.train).
RESERVED_ATTRIBUTES = frozenset("""
CHECKPOINT_HYPER_PARAMS_KEY CHECKPOINT_HYPER_PARAMS_NAME CHECKPOINT_HYPER_PARAMS_TYPE T_destination
_LightningModule__check_allowed _LightningModule__check_not_nested _LightningModule__to_tensor _apply
_apply_batch_transfer_handler _call_batch_hook _call_impl _compiled_call_impl _generate_state_key
_get_backward_hooks _get_backward_pre_hooks _get_name _jit_is_scripting _legacy_state_key _load_from_state_dict
_log_dict_through_fabric _maybe_warn_non_full_backward_hook _named_members _on_before_batch_transfer
_register_load_state_dict_pre_hook _register_state_dict_hook _replicate_for_data_parallel _save_to_state_dict
_set_hparams _slow_forward _to_hparams_dict _verify_is_manual_optimization _version _wrapped_call_impl
add_module all_gather apply automatic_optimization backward bfloat16 buffers call_super_init children
clip_gradients compile configure_callbacks configure_gradient_clipping configure_model configure_optimizers
configure_sharded_model cpu cuda current_epoch device device_mesh double dtype dump_patches eval
example_input_array extra_repr fabric float forward freeze get_buffer get_extra_state get_parameter
get_submodule global_rank global_step half hparams hparams_initial ipu load_from_checkpoint load_state_dict
local_rank log log_dict logger loggers lr_scheduler_step lr_schedulers manual_backward modules mtia
named_buffers named_children named_modules named_parameters on_after_backward on_after_batch_transfer
on_before_backward on_before_batch_transfer on_before_optimizer_step on_before_zero_grad on_exception on_fit_end
on_fit_start on_gpu on_load_checkpoint on_predict_batch_end on_predict_batch_start on_predict_end
on_predict_epoch_end on_predict_epoch_start on_predict_model_eval on_predict_start on_sanity_check_end
on_sanity_check_start on_save_checkpoint on_test_batch_end on_test_batch_start on_test_end on_test_epoch_end
on_test_epoch_start on_test_model_eval on_test_model_train on_test_start on_train_batch_end on_train_batch_start
on_train_end on_train_epoch_end on_train_epoch_start on_train_start on_validation_batch_end
on_validation_batch_start on_validation_end on_validation_epoch_end on_validation_epoch_start
on_validation_model_eval on_validation_model_train on_validation_model_zero_grad on_validation_start
optimizer_step optimizer_zero_grad optimizers parameters predict_dataloader predict_step prepare_data print put
put_dict register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook
register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook
register_state_dict_pre_hook remove_ignored_hparams requires_grad_ save_hyperparameters set_extra_state
set_submodule setup share_memory state_dict state_key strict_loading teardown test_dataloader test_step to
to_empty to_onnx to_tensorrt to_torchscript toggle_optimizer toggled_optimizer train train_dataloader trainer
training_step transfer_batch_to_device type unfreeze untoggle_optimizer val_dataloader validation_step xpu
zero_grad
""".split())
