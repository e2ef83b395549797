"""Proofs SymPy found, remembered for exactly their data: a proof holds for whoever hands in the same steps.

A kernel's self-check proves a derivation once, not at every run. The grader's judges are forks of the
grader (autograde/judge.py) and would die with what they proved; instead each judge reports the proofs
it added (``take_new``) and the grader keeps them (``learn``), so the judges forked after it start with
them: the same derivation, from another student or graded again, is proved once per grading process.
Only a proof is kept, never a failure to find one (that may be the time budget's). A key is the data
the proof was about, exactly (``key``): nothing else, so no answer is taken for another.
"""
from __future__ import annotations

import json

LIMIT = 256                # proofs kept; past it they are all forgotten, and found again when needed
KEY_CHARS = 64 * 2**10     # a longer key is not kept (a proof of that much data is rare; the memory is not)

_proved: set[str] = set()
_new: list[str] = []       # proved here since the last take_new


def key(*data) -> str:
    """The key of a proof about ``data`` (JSON-able: what was proved, the steps' data)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def known(proof: str) -> bool:
    return proof in _proved


def remember(proof: str) -> None:
    """A proof found here."""
    if _keep(proof):
        _new.append(proof)


def take_new() -> list[str]:
    """The proofs found here since the last call (a judge's to report)."""
    new = _new[:]
    _new.clear()
    return new


def learn(proofs) -> None:
    """Proofs another process found, as it reported them; anything that is not a list of strings is ignored."""
    if isinstance(proofs, list):
        for proof in proofs[:LIMIT]:
            if isinstance(proof, str):
                _keep(proof)


def forget() -> None:
    _proved.clear()
    _new.clear()


def _keep(proof: str) -> bool:
    if len(proof) > KEY_CHARS:
        return False
    if len(_proved) >= LIMIT:
        forget()
    _proved.add(proof)
    return True
