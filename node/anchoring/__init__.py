"""Anchoring: seal pending records into epochs and anchor their roots on chain."""

from .loop import AnchoringLoop, LoopStatus
from .pipeline import AnchoringHaltedError, AnchoringPipeline, EpochPolicy
from .roots import AnchoredRoots, RootState

__all__ = [
    "AnchoredRoots",
    "AnchoringHaltedError",
    "AnchoringLoop",
    "AnchoringPipeline",
    "EpochPolicy",
    "LoopStatus",
    "RootState",
]
