"""Training the in-context learner: config, compiled step, run folder, checkpoints, curves."""

from icl_theory.training.checkpoint import CorruptCheckpointError
from icl_theory.training.config import TrainConfig
from icl_theory.training.curves import Curves, plateau_exit, read_curves
from icl_theory.training.ensemble import resume_ensemble, train_ensemble
from icl_theory.training.run import (
    RunFolderError,
    TrainingDivergedError,
    TrainResult,
    finalise,
    load_model,
    load_prior,
    resume,
    train,
)
from icl_theory.training.trainer import Trainer, TrainState, normalised_error

__all__ = [
    "CorruptCheckpointError",
    "Curves",
    "RunFolderError",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "Trainer",
    "TrainingDivergedError",
    "finalise",
    "load_model",
    "load_prior",
    "normalised_error",
    "plateau_exit",
    "read_curves",
    "resume",
    "resume_ensemble",
    "train",
    "train_ensemble",
]
