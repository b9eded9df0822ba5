"""Reading a ``model.pt`` without importing torch.

Evaluation, the CLI's checks and the analyses only need a checkpoint's numbers, and importing torch
costs seconds per process (measured: 1.4-2.4 s, more than evaluating a variant's twenty models). A
``torch.save`` file is a zip archive: ``data.pkl`` (a pickle of the object whose tensors refer to
storages by key) and ``data/{key}`` (each storage's raw little-endian bytes). This module reads that
format for what vbpipe writes (dicts, lists, strings, numbers and dense tensors of plain dtypes) with
an unpickler that, like ``torch.load(weights_only=True)``, resolves no other global. Anything else
raises :class:`UnsupportedFile`, and :func:`vbpipe.checkpoint.load_model` then falls back to
``torch.load``. The tests check that both readers agree bit for bit.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile

import numpy as np

#: torch storage class names -> numpy dtypes (the dtypes vbpipe's checkpoints can hold).
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class UnsupportedFile(ValueError):
    """Not a torch zip checkpoint this reader understands (the caller falls back to torch)."""


class AttributeDict(dict):
    """Stand-in for Lightning's ``AttributeDict`` (a dict whose keys are also attributes): older
    Lightning checkpoints pickle their ``hyper_parameters`` as one. Loaded as a plain dict."""


#: Globals a Lightning checkpoint may name beyond those of :func:`load`, each mapped to a harmless
#: stand-in (no module is imported, nothing of the checkpoint's is called).
LIGHTNING_GLOBALS = {
    ("pytorch_lightning.utilities.parsing", "AttributeDict"): AttributeDict,
    ("lightning_fabric.utilities.data", "AttributeDict"): AttributeDict,
    ("lightning.fabric.utilities.data", "AttributeDict"): AttributeDict,
    ("lightning.pytorch.utilities.parsing", "AttributeDict"): AttributeDict,
}


class _StorageType:
    def __init__(self, name: str):
        self.dtype = np.dtype(STORAGE_DTYPES[name])


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, meta=None):
    itemsize = storage.dtype.itemsize
    if len(size) == 0:
        return storage[offset].copy()
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride)
    )
    return np.array(view)  # a contiguous copy, owning its memory


class _Unpickler(pickle.Unpickler):
    def __init__(self, handle, archive: zipfile.ZipFile, prefix: str, extra: dict):
        super().__init__(handle)
        self.archive, self.prefix, self.extra = archive, prefix, extra

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) in self.extra:
            return self.extra[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise UnsupportedFile(f"refers to {module}.{name}")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise UnsupportedFile(f"unknown persistent id {pid!r}")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _StorageType):
            raise UnsupportedFile(f"unsupported storage {storage_type!r}")
        raw = self.archive.read(f"{self.prefix}/data/{key}")
        data = np.frombuffer(raw, dtype=storage_type.dtype.newbyteorder("<"))
        if data.size != numel:
            raise UnsupportedFile(f"storage {key} holds {data.size} values, expected {numel}")
        return data


def load(path: str | os.PathLike, lightning: bool = False):
    """The object ``torch.save`` wrote to ``path``, tensors as numpy arrays.

    ``lightning=True`` also accepts what a Lightning checkpoint (``.ckpt``) names beyond plain
    tensors and containers (:data:`LIGHTNING_GLOBALS`, parameters); still no other global.
    Raises :class:`UnsupportedFile` for anything outside the supported subset (including a file
    that is not a zip archive, e.g. truncated): the caller decides whether torch can do better.
    """
    extra = {}
    if lightning:
        extra = dict(LIGHTNING_GLOBALS)
        extra[("torch._utils", "_rebuild_parameter")] = _rebuild_parameter
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise UnsupportedFile(f"not a torch zip archive: {error}") from None
    with archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise UnsupportedFile("no single data.pkl in the archive")
        prefix = pickles[0][: -len("/data.pkl")]
        if f"{prefix}/byteorder" in names and archive.read(f"{prefix}/byteorder") != b"little":
            raise UnsupportedFile("big-endian checkpoint")
        try:
            return _Unpickler(io.BytesIO(archive.read(pickles[0])), archive, prefix, extra).load()
        except UnsupportedFile:
            raise
        except Exception as error:  # a damaged pickle or member: let torch try and report
            raise UnsupportedFile(f"unreadable: {error}") from None
