"""The three ways nncore says no: a bad layer stack, a bad model file, a run that blew up."""
from __future__ import annotations


class SpecError(ValueError):
    """A layer stack that cannot be built.

    `index` is the position of the offending layer in the stack, from 0 (None when the
    problem is the spec as a whole, e.g. its input shape), `message` is the reason without
    the prefix. The text counts layers from 1, as both hosts number them: "layer 1 (dense)".
    """

    def __init__(self, message: str, index: int | None = None, layer_type: str | None = None):
        self.index = index
        self.layer_type = layer_type
        self.message = message
        if index is None:
            prefix = "spec"
        else:
            prefix = "layer %d" % (index + 1) + (" (%s)" % layer_type if layer_type else "")
        super().__init__("%s: %s" % (prefix, message))


class ModelFileError(ValueError):
    """A model file nncore cannot read: truncated, foreign, pickled or mismatched."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the weights were restored to the last finite state."""
