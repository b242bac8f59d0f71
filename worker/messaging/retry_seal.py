"""The worker's own retry count, sealed so that no client can skip or prolong the ladder.

A delayed retry copy carries ``attempts`` and ``retry-round``; anyone who can
publish can write those headers too (and ``x-death``, which the broker keeps as
sent). So the worker seals them: an HMAC over the queue, the message id, both
counts and the body, under a key all workers share (``RETRY_SEAL_KEY``, or one
kept in the database). A delivery whose counts carry no valid seal starts at zero.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from worker.messaging import headers as h


class RetrySeal:
    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the retry seal needs a key")
        self._key = key

    def fingerprint(self) -> str:
        """A short, safe name for the key, for the logs (workers must share one)."""
        return hashlib.sha256(b"fingerprint:" + self._key).hexdigest()[:8]

    def headers(
        self, queue: str, message_id: str, attempts: int, round_: int, body: bytes
    ) -> dict[str, Any]:
        """The retry bookkeeping headers for a copy parked in one of ``queue``'s retry queues."""
        return {
            h.ATTEMPTS: attempts,
            h.RETRY_ROUND: round_,
            h.RETRY_SEAL: self._digest(queue, message_id, attempts, round_, body),
        }

    def verified(
        self, headers: Mapping[str, Any], queue: str, message_id: str, body: bytes
    ) -> tuple[int, int]:
        """(attempts, rounds) from ``headers`` if a worker sealed them, else (0, 0)."""
        if not self.authentic(headers, queue, message_id, body):
            return 0, 0
        attempts, round_ = headers[h.ATTEMPTS], headers[h.RETRY_ROUND]
        return int(attempts), int(round_)

    def authentic(
        self, headers: Mapping[str, Any], queue: str, message_id: str, body: bytes
    ) -> bool:
        """Whether a worker sealed this message for ``queue`` (a policy's command is)."""
        attempts, round_, seal = (headers.get(name) for name in h.SEALED)
        if not (_is_count(attempts) and _is_count(round_) and _looks_like_seal(seal)):
            return False
        assert isinstance(attempts, int)
        assert isinstance(round_, int)
        assert isinstance(seal, str)
        return hmac.compare_digest(seal, self._digest(queue, message_id, attempts, round_, body))

    def _digest(self, queue: str, message_id: str, attempts: int, round_: int, body: bytes) -> str:
        signed = hmac.new(self._key, digestmod=hashlib.sha256)
        for part in (queue, message_id, str(attempts), str(round_)):
            signed.update(part.encode("utf-8", "surrogateescape") + b"\x00")
        signed.update(hashlib.sha256(body).digest())
        return signed.hexdigest()


def _looks_like_seal(value: object) -> bool:
    """A seal as the worker writes it (``compare_digest`` refuses non-ASCII text)."""
    return isinstance(value, str) and len(value) == 64 and value.isascii()


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1_000_000
