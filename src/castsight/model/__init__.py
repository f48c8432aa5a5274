"""The model artifact ``castsight teach`` writes and ``castsight inspect`` reads.

A folder with a JSON manifest and payload files, verified by sha256 on load;
see :mod:`castsight.model.artifact`. Imports no training framework (onnxruntime
only when a learned model is run).
"""

from castsight.model.artifact import (
    MANIFEST,
    SCHEMA,
    LearnedPart,
    ModelArtifact,
    content_sha256,
    default_model,
    learned_weights,
    load_artifact,
    save_artifact,
)

__all__ = [
    "MANIFEST",
    "SCHEMA",
    "LearnedPart",
    "ModelArtifact",
    "content_sha256",
    "default_model",
    "learned_weights",
    "load_artifact",
    "save_artifact",
]
