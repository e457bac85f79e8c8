"""The model file: one .npz (a zip of .npy arrays) with the spec as JSON text, the weights,
and the optimizer's state, so that training resumes exactly where it stopped.

Members (np.savez names them <key>.npy):
    format             the text "nncore-model-1"
    spec               JSON text: {"spec": ..., "training": ..., "optimizer_state": ...}
    param_<i>          the i-th array of Network.parameters()
    state_<i>_<k>      slot k of parameter i's optimizer state (e.g. Adam's mean, square),
                       for each parameter the optimizer has stepped (steps[i] > 0)
with optimizer_state = {"slot_names": [...], "iterations": n, "steps": [n per parameter]}.
Older files have neither; they load with a fresh optimizer.

A file may be hostile. It is read with zipfile and numpy.lib.format (never pickle), and
nothing is inflated or allocated before it passes, in this order:
  1. the zip's directory is at most MAX_DIRECTORY bytes; every member has one of the names
     above (once), is stored or deflated (bzip2/lzma cannot be inflated in bounded memory)
     and not encrypted; the declared uncompressed sizes add up to at most what the
     parameter limit (spec.MAX_PARAMETERS) allows;
  2. each member's .npy header, read from at most its first MAX_HEADER bytes: no object
     (pickled) dtype; format and spec are small text arrays (MAX_FORMAT, MAX_SPEC bytes);
  3. the spec is validated as a layer stack, parameter limit included, without allocating
     it; the training setup's loss and optimizer are made (no arrays), and optimizer_state's
     slot names must be that optimizer's; the param_ and state_ members must be exactly
     those the stack and optimizer_state need, each with a float dtype, exactly its
     parameter's shape, and a declared size of exactly header + data;
  4. every array's data is streamed in chunks of CHUNK bytes (never more than its declared
     size) and checked to be finite, and only then is the network allocated and filled,
     streaming again.
So a refused file costs a few megabytes, and an accepted one little beyond the network it
describes. Every failure is a ModelFileError.
"""
from __future__ import annotations

import io as _io
import json
import os
import re
import struct
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npy

from . import losses, optimizers
from . import spec as spec_module
from .errors import ModelFileError, SpecError
from .layers import product

FORMAT = "nncore-model-1"
MAX_FORMAT = 1024  # bytes of the format member
MAX_SPEC = 1 << 20  # bytes of the spec member: 256k characters of JSON
MAX_HEADER = 4096  # an .npy header of a float array takes about 128 bytes
MAX_DIRECTORY = 1 << 20  # the zip's central directory: room for about 10,000 members
MAX_SLOTS = 2  # no optimizer keeps more than two arrays per parameter
MAX_ITEMSIZE = 8  # weights are float16, float32 or float64
CHUNK = 1 << 20  # bytes read at a time

_MEMBER = re.compile(r"(format|spec|param_(?:0|[1-9]\d{0,6})|state_(?:0|[1-9]\d{0,6})_\d)\.npy")


# ------------------------------------------------------------------ saving


def save(network, file):
    """Writes `network` (its weights and, once compiled, its optimizer's state) to a path
    or a binary file object."""
    params = network.parameters()
    meta = {"spec": network.to_spec(), "training": network.training_config}
    arrays = {"format": np.array(FORMAT)}
    for index, param in enumerate(params):
        arrays["param_%d" % index] = param
    state = _saved_state(network, params)
    if state is not None:
        meta["optimizer_state"] = {key: state[key] for key in ("slot_names", "iterations", "steps")}
        for index, slots in enumerate(state["slots"]):
            for slot, array in enumerate(slots):
                arrays["state_%d_%d" % (index, slot)] = array
    arrays["spec"] = np.array(json.dumps(meta))
    if isinstance(file, (str, os.PathLike)):
        # np.savez would append ".npz" to a bare name; write exactly the path given
        with open(file, "wb") as handle:
            np.savez(handle, **arrays)
    else:
        np.savez(file, **arrays)


def _saved_state(network, params):
    """The optimizer's state, when `load` can give it back to the same optimizer."""
    config = network.training_config or {}
    if network.optimizer is None or config.get("optimizer") not in optimizers.OPTIONS:
        return None
    state = network.optimizer.state_dict(params)
    return state if len(state["slot_names"]) <= MAX_SLOTS else None


def to_bytes(network):
    buffer = _io.BytesIO()
    save(network, buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ loading


def load(file, dtype="float32"):
    """Reads a model from a path, bytes or a binary file object -> Network, compiled as it
    was saved and with its optimizer's state, so that `fit` simply continues."""
    if isinstance(file, (bytes, bytearray, memoryview)):
        return _load(_io.BytesIO(bytes(file)), dtype)
    if isinstance(file, (str, os.PathLike)):
        if not os.path.isfile(file):
            raise ModelFileError("no model file at %s" % (file,))
        with open(file, "rb") as handle:
            return _load(handle, dtype)
    return _load(file, dtype)


from_bytes = load


def _load(handle, dtype):
    from .network import Network

    _check_directory(handle)
    try:
        with zipfile.ZipFile(handle) as archive:
            members = _members(archive)
            headers = {name: _header(archive, info) for name, info in members.items()}
            meta = _meta(archive, members, headers)
            shapes = _parameter_shapes(meta["spec"])
            state = _optimizer_state(meta, len(shapes))
            training = _training(meta.get("training"), state)
            expected = _expected_arrays(shapes, state)
            _check_arrays(members, headers, expected)
            for name in expected:  # the first pass: every array complete and finite
                _stream(archive, members[name], headers[name])
            network = Network.from_spec(meta["spec"], dtype=dtype, initialise=False)
            params = network.parameters()
            for index, param in enumerate(params):
                name = "param_%d" % index
                _stream(archive, members[name], headers[name], into=param)
            if _compile(network, training) and state is not None:
                _restore_state(archive, members, headers, network, state)
            return network
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError) as error:
        raise ModelFileError(
            "not an nncore model file: it is not a complete .npz archive (%s)" % error
        ) from None


def _check_directory(handle):
    """Refuse what is not a zip, or a zip whose directory alone would fill memory, before
    zipfile reads that directory."""
    try:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        tail = min(size, 22 + 0xFFFF + 20)  # end record, longest comment, zip64 locator
        handle.seek(size - tail)
        data = handle.read(tail)
        handle.seek(0)
        start = handle.read(8)
        handle.seek(0)
    except (OSError, ValueError) as error:
        raise ModelFileError("the model file cannot be read (%s)" % error) from None
    if start.startswith(b"\x93NUMPY"):
        raise ModelFileError("not an nncore model file: it holds one bare array")
    end = data.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(data):
        if start.startswith(b"PK"):
            raise ModelFileError("not an nncore model file: it is not a complete .npz archive")
        raise ModelFileError("not an nncore model file: it is not an .npz archive")
    if end >= 20 and data[end - 20 : end - 16] == b"PK\x06\x07":
        raise ModelFileError("not an nncore model file: a zip64 archive, larger than any model")
    (directory_size,) = struct.unpack("<I", data[end + 12 : end + 16])
    if directory_size > MAX_DIRECTORY:
        raise ModelFileError(
            "not an nncore model file: its zip directory takes %s bytes (at most %s)"
            % (format(directory_size, ","), format(MAX_DIRECTORY, ","))
        )


def _members(archive):
    """name -> ZipInfo, after checking names, compression and the declared sizes."""
    members = {}
    for info in archive.infolist():
        match = _MEMBER.fullmatch(info.filename)
        if match is None:
            raise ModelFileError(
                "not an nncore model file: it holds %r, which is not part of the format"
                % info.filename[:100]
            )
        name = info.filename[: -len(".npy")]
        if name in members:
            raise ModelFileError("the model file holds %r twice" % info.filename)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(
                "%r is compressed with method %d; nncore reads stored or deflated members"
                % (info.filename, info.compress_type)
            )
        if info.flag_bits & 0x1:
            raise ModelFileError("%r is encrypted" % info.filename)
        members[name] = info
    total = sum(info.file_size for info in members.values())
    limit = (MAX_FORMAT + MAX_SPEC + MAX_HEADER * len(members)
             + (1 + MAX_SLOTS) * MAX_ITEMSIZE * spec_module.MAX_PARAMETERS)
    if total > limit:
        raise ModelFileError(
            "the model file would inflate to %s bytes, more than any model within the limit "
            "of %s parameters" % (format(total, ","), format(spec_module.MAX_PARAMETERS, ","))
        )
    return members


class _Header:
    """What an .npy header says: dtype, shape, order, and where the data starts."""

    def __init__(self, dtype, shape, fortran_order, offset):
        self.dtype, self.shape, self.fortran_order, self.offset = (
            dtype, shape, fortran_order, offset)
        self.nbytes = dtype.itemsize * product(shape)


def _header(archive, info):
    """The .npy header of one member, parsed from at most its first MAX_HEADER bytes."""
    with archive.open(info) as stream:
        head = _io.BytesIO(stream.read(min(info.file_size, MAX_HEADER)))
    name = info.filename
    try:
        version = npy.read_magic(head)
        if version == (1, 0):
            shape, fortran_order, dtype = npy.read_array_header_1_0(head)
        elif version == (2, 0):
            shape, fortran_order, dtype = npy.read_array_header_2_0(head)
        else:
            raise ValueError("an .npy version %d.%d header" % version)
    except (ValueError, TypeError, SyntaxError, KeyError, RecursionError, OverflowError) as error:
        raise ModelFileError("%r is not a readable .npy array (%s)" % (name, error)) from None
    if dtype.hasobject:
        raise ModelFileError("the file holds pickled Python objects, which nncore never loads")
    header = _Header(dtype, tuple(shape), bool(fortran_order), head.tell())
    if info.file_size != header.offset + header.nbytes:
        raise ModelFileError(
            "%r declares %s bytes but its header describes %s"
            % (name, format(info.file_size, ","), format(header.offset + header.nbytes, ","))
        )
    return header


def _text(archive, info, header, limit):
    """A member holding one string (a 0-d unicode array) of at most `limit` bytes."""
    if header.dtype.kind != "U" or header.shape != () or header.nbytes > limit:
        raise ModelFileError(
            "%r should be a short text but is %s %s"
            % (info.filename, header.dtype, header.shape or "scalar")
        )
    with archive.open(info) as stream:
        stream.read(header.offset)
        data = stream.read(header.nbytes)
    if len(data) != header.nbytes:
        raise ModelFileError("%r is truncated" % info.filename)
    return str(np.frombuffer(data, dtype=header.dtype)[0])


def _meta(archive, members, headers):
    if "spec" not in members or "format" not in members:
        raise ModelFileError("not an nncore model file: it has no 'spec' entry")
    found = _text(archive, members["format"], headers["format"], MAX_FORMAT)
    if found != FORMAT:
        raise ModelFileError("unsupported model format %r" % found[:100])
    text = _text(archive, members["spec"], headers["spec"], MAX_SPEC)
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ModelFileError("the model file's spec is unreadable (%s)" % error) from None
    if not isinstance(meta, dict) or "spec" not in meta:
        raise ModelFileError("the model file's spec is unreadable: it has no layer stack")
    return meta


def _parameter_shapes(spec):
    """The shapes the spec's weights have, validated without allocating anything."""
    try:
        input_shape, layers = spec_module.parse(spec)
    except SpecError as error:
        raise ModelFileError("the model file's layer stack is invalid: %s" % error) from None
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise ModelFileError("the model file's spec is unreadable (%s)" % error) from None
    return spec_module.parameter_shapes(layers, input_shape)


def _optimizer_state(meta, count):
    """The JSON part of the optimizer state (None in older files), checked."""
    state = meta.get("optimizer_state")
    if state is None:
        return None

    def whole(value):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    names, steps = (state.get("slot_names"), state.get("steps")) if isinstance(state, dict) \
        else (None, None)
    if (
        not isinstance(names, list) or len(names) > MAX_SLOTS
        or not all(isinstance(name, str) for name in names)
        or not whole(state.get("iterations"))
        or not isinstance(steps, list) or len(steps) != count
        or not all(whole(value) for value in steps)
    ):
        raise ModelFileError(
            "the model file's optimizer state is unreadable: it needs slot_names (at most "
            "%d), iterations and one step count per weight array (%d)" % (MAX_SLOTS, count)
        )
    return state


def _expected_arrays(shapes, state):
    """member name -> the shape it must have."""
    expected = {"param_%d" % index: shape for index, shape in enumerate(shapes)}
    if state is not None:
        for index, steps in enumerate(state["steps"]):
            for slot in range(len(state["slot_names"]) if steps else 0):
                expected["state_%d_%d" % (index, slot)] = shapes[index]
    return expected


def _check_arrays(members, headers, expected):
    stored = sorted(name for name in members if name.startswith("param_"))
    needed = sorted(name for name in expected if name.startswith("param_"))
    if stored != needed:
        raise ModelFileError(
            "the file has %d weight arrays but its layer stack needs %d%s"
            % (len(stored), len(needed), "" if len(stored) != len(needed)
               else " (%s)" % ", ".join(sorted(set(stored) ^ set(needed))))
        )
    extra = sorted(set(members) - set(expected) - {"format", "spec"})
    missing = sorted(set(expected) - set(members))
    if extra or missing:
        raise ModelFileError(
            "the file's optimizer state arrays do not match its step counts (%s)"
            % ", ".join(["unexpected %s" % name for name in extra]
                        + ["missing %s" % name for name in missing])
        )
    for name, shape in expected.items():
        header = headers[name]
        what = "weight array %s" % name[len("param_"):] if name.startswith("param_") \
            else "optimizer state array %s" % name[len("state_"):]
        if header.shape != shape:
            raise ModelFileError(
                "%s has shape %s but the layer stack needs %s" % (what, header.shape, shape)
            )
        if header.dtype.kind != "f" or header.dtype.itemsize > MAX_ITEMSIZE:
            raise ModelFileError(
                "%s is not finite floating-point data (its dtype is %s)" % (what, header.dtype)
            )


def _stream(archive, info, header, into=None):
    """Read a member's data in chunks, exactly header.nbytes bytes, checking that every
    value is finite; with `into`, copy the values into that array (of the header's shape)."""
    if into is None:
        flat = None
    else:
        # Fortran order lists a[i, j] with i fastest: that is C order over a.T
        target = into.T if header.fortran_order else into
        flat = target.reshape(-1) if target.flags.c_contiguous else target.flat
    itemsize = header.dtype.itemsize
    count, done = product(header.shape), 0
    with archive.open(info) as stream:
        stream.read(header.offset)
        while done < count:
            size = min(CHUNK // itemsize, count - done)
            data = stream.read(size * itemsize)
            if len(data) != size * itemsize:
                raise ModelFileError("%r is truncated" % info.filename)
            values = np.frombuffer(data, dtype=header.dtype)
            if not np.isfinite(values).all():
                kind = "weight array" if info.filename.startswith("param_") else "state array"
                raise ModelFileError(
                    "%s %r is not finite floating-point data" % (kind, info.filename)
                )
            if flat is not None:
                flat[done : done + size] = values
            done += size
        stream.read(1)  # at the end of the member: zipfile checks its CRC


def _training(training, state):
    """The file's training setup as compile() arguments, or None when there is nothing
    (usable) to compile with: an unknown setup does not make the weights unusable, they load
    uncompiled and its optimizer state is not restored.

    The loss and the optimizer (small objects, no arrays) are made here, before any network
    exists, so that a state whose slots are not the optimizer's is refused before anything
    the size of the model is allocated."""
    if not isinstance(training, dict) or not training.get("loss"):
        return None
    options = training.get("options", {})
    arguments = {"loss": training["loss"], "optimizer": training.get("optimizer", "sgd"),
                 "lr": training.get("lr")}
    try:
        losses.get(arguments["loss"])
        optimizer = optimizers.get(arguments["optimizer"], lr=arguments["lr"], **options)
    except (ValueError, TypeError):
        return None
    arguments.update(options)
    if state is not None and list(state["slot_names"]) != list(optimizer.slot_names):
        raise ModelFileError(
            "the model file's optimizer state does not fit its optimizer (the saved state "
            "has slots %s but %s keeps %s)"
            % ([name[:40] for name in state["slot_names"]], type(optimizer).__name__,
               list(optimizer.slot_names))
        )
    return arguments


def _compile(network, arguments):
    """Compile with what _training made of the file; False when there is nothing to compile
    with."""
    if arguments is None:
        return False
    try:
        network.compile(**arguments)
    except (ValueError, TypeError):
        return False  # not expected: _training made this loss and optimizer already
    return True


def _restore_state(archive, members, headers, network, state):
    params = network.parameters()
    slots = []
    for index, (param, steps) in enumerate(zip(params, state["steps"])):
        arrays = []
        for slot in range(len(state["slot_names"]) if steps else 0):
            name = "state_%d_%d" % (index, slot)
            array = np.empty_like(param)
            _stream(archive, members[name], headers[name], into=array)
            arrays.append(array)
        slots.append(arrays)
    try:
        network.optimizer.load_state(params, dict(state, slots=slots), copy=False)
    except ValueError as error:
        raise ModelFileError(
            "the model file's optimizer state does not fit its optimizer (%s)" % error
        ) from None
