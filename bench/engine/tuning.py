"""Hyperparameter search with Optuna inside one outer training set.

Trials fit on the inner training part and are judged by their best validation loss on the
inner validation part; the outer test fold is never read here. A median pruner stops
hopeless trials from their per-epoch validation loss. Studies live in their own SQLite file
(``Suite.studies_path``), named by fold job hash, so an interrupted search resumes and runs
only the trials still missing. (The TPE sampler's state is not stored: after an interruption
the remaining trials draw other points than an uninterrupted run would.)
"""

from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np

from bench.config.spec import AugmentSpec, ParamSpec, StageSpec, TuningSpec
from bench.config.trainable import Trainable
from bench.engine.plan import TrainingSettings
from bench.hashing import derive_seed


def search(*, study_name: str, storage_path, tuning: TuningSpec, seed: int, objective) -> dict:
    """Run the trials still missing from the stored study; return the best parameters."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage_path.parent.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        study_name=study_name,
        storage=optuna.storages.RDBStorage(  # workers of a parallel run share the file
            f"sqlite:///{storage_path}", engine_kwargs={"connect_args": {"timeout": 60}}
        ),
        load_if_exists=True,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=derive_seed(seed, "tpe")),
        pruner=(
            optuna.pruners.MedianPruner(n_warmup_steps=2)
            if tuning.pruner == "median"
            else optuna.pruners.NopPruner()
        ),
    )
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    remaining = tuning.n_trials - sum(t.state in finished for t in study.trials)
    if remaining > 0:
        study.optimize(
            lambda trial: objective(trial, suggest(trial, tuning.space)),
            n_trials=remaining,
            timeout=tuning.timeout,
        )
    return dict(study.best_params)


def suggest(trial, space: tuple[ParamSpec, ...]) -> dict:
    params = {}
    for p in space:
        if p.kind == "categorical":
            params[p.name] = trial.suggest_categorical(p.name, list(p.choices))
        elif p.kind == "int":
            params[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
        else:
            params[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
    return params


def apply_params(
    params: dict, *, stage: StageSpec, hyper: TrainingSettings, augment: AugmentSpec | None
) -> tuple[StageSpec, TrainingSettings, AugmentSpec | None]:
    """The stage, its settings and augmentation with tuned values substituted."""
    hyper = replace(
        hyper,
        **{
            k: params[k]
            for k in ("learning_rate", "batch_size", "epochs", "lr_decay")
            if k in params
        },
    )
    head = stage.head
    if "dropout" in params:
        head = replace(head, dropout=float(params["dropout"]))
    if "dense_units" in params:
        units = int(params["dense_units"])
        head = replace(head, dense=tuple(units for _ in head.dense) or (units,))
    stage = replace(stage, head=head)
    if "trainable_layers" in params:
        stage = replace(stage, trainable=Trainable("last", int(params["trainable_layers"])))
    if augment is not None and "augment_strength" in params:
        augment = scale_augmentation(augment, float(params["augment_strength"]))
    return stage, hyper, augment


def scale_augmentation(spec: AugmentSpec, strength: float) -> AugmentSpec:
    """Every range multiplied by ``strength`` (0 = none, 1 = as declared)."""
    brightness = spec.brightness
    if brightness:
        brightness = tuple(1 + (b - 1) * strength for b in brightness)
    return replace(
        spec,
        rotation=spec.rotation * strength,
        width_shift=spec.width_shift * strength,
        height_shift=spec.height_shift * strength,
        shear=spec.shear * strength,
        zoom=spec.zoom * strength,
        brightness=brightness,
        mixup_alpha=spec.mixup_alpha * strength,
    )


class PruningCallback(keras.callbacks.Callback):
    """Report each epoch's validation loss to the trial; stop the fit when told to prune."""

    def __init__(self, trial):
        super().__init__()
        self.trial = trial
        self.pruned = False

    def on_epoch_end(self, epoch, logs=None):
        self.trial.report(float(logs["val_loss"]), epoch)
        if self.trial.should_prune():
            self.pruned = True
            self.model.stop_training = True


def best_loss(history: dict) -> float:
    return float(np.min(history["val_loss"]))
