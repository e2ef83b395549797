"""Numeric arrays as data: the .npy bytes, base64-encoded, never a pickle."""
from __future__ import annotations

import base64
import binascii
import io
from contextlib import contextmanager

import numpy as np

from .errors import AnswerError
from .i18n import _


def array_to_data(a) -> dict:
    """A numeric array as {"npy": base64 of the .npy bytes}; object arrays are refused."""
    a = np.asarray(a)
    if a.dtype.hasobject or a.dtype.kind not in "biuf":
        raise AnswerError(_("expected a numeric array, got dtype {dtype}").format(dtype=a.dtype))
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    raw = buf.getvalue()
    text = base64.b64encode(raw).decode("ascii")
    if _encoded_here is not None:
        _encoded_here[id(text)] = (text, raw)
    return {"npy": text}


def array_from_data(d, max_bytes: int = 64 * 2**20) -> np.ndarray:
    """Inverse of array_to_data, without pickles; raises ValueError on anything else."""
    if not isinstance(d, dict) or not isinstance(d.get("npy"), str) or len(d["npy"]) > max_bytes * 4 // 3 + 8:
        raise ValueError("not an array payload")
    text = d["npy"]
    kept = _encoded_here.get(id(text)) if _encoded_here is not None else None
    raw = kept[1] if kept is not None and kept[0] is text else _decode(text)
    a = np.load(io.BytesIO(raw), allow_pickle=False)
    return a.astype(np.float64) if a.dtype.kind in "biu" else a


_encoded_here: dict | None = None  # id(text) -> (text, its .npy bytes), while read_back() is on


@contextmanager
def read_back():
    """Inside, array_from_data reads the very text objects array_to_data made inside from the .npy bytes they
    encode instead of decoding the base64 again (a self-check judges what it has just encoded: megabytes for c2).

    Only those objects hit, and they are held until the end, so no id is reused; equal text from anywhere
    else, and everything outside, is decoded as before."""
    global _encoded_here
    outer, _encoded_here = _encoded_here, {} if _encoded_here is None else _encoded_here
    try:
        yield
    finally:
        _encoded_here = outer


def _decode(text: str) -> bytes:
    """``base64.b64decode(text, validate=True)``, at twice its speed for the data array_to_data writes.

    The strict decoder checks the alphabet as it decodes, where b64decode first matches the whole text
    (megabytes for a full-size Jacobian) against a regular expression. What it refuses (surplus "="
    after the padding, any non-base64 character) goes to b64decode, which accepts or refuses it as before.
    """
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except ValueError:
        return base64.b64decode(text, validate=True)
