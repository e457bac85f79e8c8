"""The model file: one .npz holding the spec as JSON text and the weights as arrays.

Keys: "format" ("nncore-model-1"), "spec" (JSON: {"spec": ..., "training": ...}),
"param_0", "param_1", ... in `Network.parameters()` order. Always read with
allow_pickle=False, so a file can never run code; every failure is a ModelFileError.
"""
from __future__ import annotations

import io as _io
import json
import os
import zipfile

import numpy as np

from .errors import ModelFileError, SpecError

FORMAT = "nncore-model-1"


def save(network, file):
    """Writes `network` to a path or a binary file object."""
    meta = {"spec": network.to_spec(), "training": network.training_config}
    arrays = {"format": np.array(FORMAT), "spec": np.array(json.dumps(meta))}
    for index, param in enumerate(network.parameters()):
        arrays["param_%d" % index] = param
    if isinstance(file, (str, os.PathLike)):
        # np.savez would append ".npz" to a bare name; write exactly the path given
        with open(file, "wb") as handle:
            np.savez(handle, **arrays)
    else:
        np.savez(file, **arrays)


def to_bytes(network):
    buffer = _io.BytesIO()
    save(network, buffer)
    return buffer.getvalue()


def _read_arrays(file):
    try:
        loaded = np.load(file, allow_pickle=False)
        if not hasattr(loaded, "files"):  # a single .npy array, not an .npz archive
            raise ModelFileError("not an nncore model file: it holds one bare array")
        with loaded as archive:
            return {key: archive[key] for key in archive.files}
    except ModelFileError:
        raise
    except ValueError as error:
        if "Object arrays" in str(error):
            raise ModelFileError(
                "the file holds pickled Python objects, which nncore never loads"
            ) from None
        if "pickle" in str(error):  # neither .npz nor .npy: NumPy took it for a pickle
            raise ModelFileError("not an nncore model file: it is not an .npz archive") from None
        raise ModelFileError("not an nncore model file (%s)" % error) from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as error:
        raise ModelFileError(
            "not an nncore model file: it is not a complete .npz archive (%s)" % error
        ) from None


def load(file, dtype="float32"):
    """Reads a model from a path, bytes or a binary file object -> Network."""
    from .network import Network

    if isinstance(file, (bytes, bytearray, memoryview)):
        file = _io.BytesIO(bytes(file))
    elif isinstance(file, (str, os.PathLike)) and not os.path.isfile(file):
        raise ModelFileError("no model file at %s" % (file,))
    arrays = _read_arrays(file)
    if "spec" not in arrays or "format" not in arrays:
        raise ModelFileError("not an nncore model file: it has no 'spec' entry")
    if str(arrays["format"]) != FORMAT:
        raise ModelFileError("unsupported model format %r" % str(arrays["format"]))
    try:
        meta = json.loads(str(arrays["spec"]))
        network = Network.from_spec(meta["spec"], dtype=dtype)
    except (ValueError, KeyError, TypeError) as error:
        if isinstance(error, SpecError):
            raise ModelFileError("the model file's layer stack is invalid: %s" % error) from None
        raise ModelFileError("the model file's spec is unreadable (%s)" % error) from None
    params = network.parameters()
    stored = [key for key in arrays if key.startswith("param_")]
    if len(stored) != len(params):
        raise ModelFileError(
            "the file has %d weight arrays but its layer stack needs %d"
            % (len(stored), len(params))
        )
    for index, param in enumerate(params):
        value = arrays.get("param_%d" % index)
        if value is None or value.shape != param.shape:
            raise ModelFileError(
                "weight array %d has shape %s but the layer stack needs %s"
                % (index, None if value is None else value.shape, param.shape)
            )
        if not np.issubdtype(value.dtype, np.floating) or not np.isfinite(value).all():
            raise ModelFileError("weight array %d is not finite floating-point data" % index)
        np.copyto(param, value)
    training = meta.get("training")
    if isinstance(training, dict) and training.get("loss"):
        try:
            network.compile(
                loss=training["loss"],
                optimizer=training.get("optimizer", "sgd"),
                lr=training.get("lr", 0.01),
                **training.get("options", {})
            )
        except (ValueError, TypeError):
            pass  # an unknown training setup does not make the weights unusable
    return network


from_bytes = load
