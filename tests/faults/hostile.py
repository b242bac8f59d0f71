"""Hostile input for scenario 7: every kind of bad message, as raw AMQP, with what must happen.

Each :class:`Kind` is one message (or two: a duplicate) whose properties are
written byte by byte (tests/hostile_amqp.py), so it can carry what the worker's
own client could never send: short strings that are not UTF-8, a timestamp past
the year 9999, a header table nested 600 deep, every AMQP field type. Its
``expect`` is the outcome the checker must find (``dead:<error-code>`` in the
DLQ, or ``accepted``); its ``checks`` look at the DLQ copy beyond the code.
``guess`` marks the suite's own reading of what a careful worker does.

docs/bad-input.md has this list as a table (``python -m tests.faults.hostile``
writes it there; ``test_bad_input.py`` fails when it is stale).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.faults.traffic import REF_HEADER, Planned
from tests.hostile_amqp import (
    FRAME_MAX,
    MAX_PROPERTIES,
    Field,
    encode_properties,
    nested,
    same_value,
    shortstr,
)
from tests.hostile_amqp import encode_value as wire_value

QUEUE = "accounts.commands"
DLQ = f"{QUEUE}.dlq"
MALFORMED = b'{"account_id": "x", "amount":'
MAX_BODY_BYTES = 262144
#: The header where the worker keeps the raw bytes of properties it could not decode.
UNDECODABLE_HEADER = "undecodable-properties"
#: Any header of the DLQ record whose name has this in it says what was cut to fit.
TRIMMED = "trim"
#: Properties this big leave no room for the worker's failure record in one frame
#: (26 bytes stay free for the ``x-delivery-count`` header the broker adds).
BIG = MAX_PROPERTIES - 52


@dataclass(frozen=True)
class Letter:
    """One message read from a DLQ (properties decoded by tests/hostile_amqp.py)."""

    properties: dict[str, Any]
    body: bytes
    raw: bytes
    at: float
    queue: str = DLQ

    @property
    def headers(self) -> dict[Any, Field]:
        found = self.properties.get("headers")
        return found if isinstance(found, dict) else {}

    def header(self, name: str | bytes) -> Any:
        """A header's value without its tag (None when absent)."""
        wanted = name.encode() if isinstance(name, str) else name
        for key, value in self.headers.items():
            if (key.encode("utf-8", "surrogatepass") if isinstance(key, str) else key) == wanted:
                return value.value if isinstance(value, Field) else value
        return None

    def text(self, name: str) -> str | None:
        value = self.header(name)
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return None if value is None else str(value)


@dataclass
class Kind:
    """One kind of bad input: what is sent, and what must become of it."""

    name: str
    #: What is sent, in words (for docs/bad-input.md).
    sent: str
    #: ``dead:<error-code>`` or ``accepted``.
    expect: str
    body: bytes
    #: AMQP properties (see :func:`tests.hostile_amqp.encode_properties`) over the
    #: defaults: JSON content type, persistent, a fresh ``message_id``; None omits one.
    properties: dict[str, Any] = field(default_factory=dict)
    command: str = "Deposit"
    #: Sent to the queue itself (the default exchange), not through ``commands``.
    direct: bool = False
    #: Property overrides of further copies of the same message (a duplicate).
    again: list[dict[str, Any]] = field(default_factory=list)
    checks: tuple[Check, ...] = ()
    #: The expectation is this suite's own reading of what a careful worker does.
    guess: bool = False
    #: What it does to the money if accepted.
    delta: Decimal = Decimal(0)
    #: The inbox key a worker accepting it would use (default: the message_id property).
    inbox_id: str | None = None
    ref: str = ""

    def __post_init__(self) -> None:
        self.ref = self.ref or f"{self.name}-{uuid.uuid4().hex[:6]}"
        self.properties = {
            "content_type": "application/json",
            "delivery_mode": 2,
            "message_id": uuid.uuid4().hex,
            **self.properties,
        }

    @property
    def code(self) -> str | None:
        return self.expect.removeprefix("dead:") if self.expect.startswith("dead:") else None

    def copies(self) -> list[dict[str, Any]]:
        """The properties of each message sent, the ledger's ref header first."""
        sent = []
        for override in [{}, *self.again]:
            properties = {**self.properties, **override}
            properties["headers"] = {REF_HEADER: self.ref, **(properties.get("headers") or {})}
            sent.append(properties)
        return sent

    def wire(self) -> list[bytes]:
        return [encode_properties(**properties) for properties in self.copies()]

    def planned(self) -> Planned:
        message_id = self.properties.get("message_id")
        return Planned(
            ref=self.ref,
            command=self.command,
            body=self.body,
            message_id=self.inbox_id or (message_id if isinstance(message_id, str) else None),
            expect=self.expect,
            delta=self.delta,
            queue=QUEUE if self.direct else None,
            type=_text(self.properties.get("type")),
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# Checks on the DLQ copy, beyond its error code.


@dataclass(frozen=True)
class Check:
    """What a kind's DLQ copy must show (``words``, for the docs), and the test of it."""

    words: str
    problems: Callable[[Letter], list[str]]

    def __call__(self, letter: Letter) -> list[str]:
        return self.problems(letter)


def raw_kept(marker: bytes) -> Check:
    """The undecodable property bytes are kept in the ``undecodable-properties`` header
    (``marker``: the offending bytes, which must be among them)."""

    def problems(letter: Letter) -> list[str]:
        raw = letter.header(UNDECODABLE_HEADER)
        if not isinstance(raw, bytes | str):
            return [f"no {UNDECODABLE_HEADER} header (got {sorted(map(str, letter.headers))})"]
        kept = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
        if marker not in kept:
            return [f"{UNDECODABLE_HEADER} ({len(kept)} bytes) lacks the offending {marker[:40]!r}"]
        return []

    return Check(f"the raw properties kept in `{UNDECODABLE_HEADER}`", problems)


def keeps_header(name: str | bytes, value: Any) -> Check:
    wanted = name.encode() if isinstance(name, str) else name

    def problems(letter: Letter) -> list[str]:
        for key, got in letter.headers.items():
            if (key.encode("utf-8", "surrogatepass") if isinstance(key, str) else key) == wanted:
                if same_value(value, got):
                    return []
                return [f"header {_short(name)} is {_short(got)}, sent {_short(value)}"]
        return [f"header {_short(name)} ({len(wanted)}-byte name) is gone from the copy"]

    shown = name if len(wanted) <= 20 else f"{len(wanted)}-byte key"
    return Check(f"the copy keeps the header `{shown}` as sent", problems)


def keeps_property(name: str, value: Any) -> Check:
    def problems(letter: Letter) -> list[str]:
        got = letter.properties.get(name)
        return [] if got == value else [f"property {name} is {got!r}, sent {value!r}"]

    return Check(f"the copy keeps `{name}`", problems)


def _attempts_zero(letter: Letter) -> list[str]:
    got = letter.header("attempts")
    return [] if got == 0 else [f"attempts header {got!r}, not 0 (no handler ever ran)"]


def _trimmed(letter: Letter) -> list[str]:
    named = [str(key) for key in letter.headers if TRIMMED in str(key).lower()]
    if not named:
        return [f"no header naming what was cut to fit the frame ({len(letter.raw)} bytes kept)"]
    return []


attempts_zero = Check("the record says `attempts` 0, not the forged count", _attempts_zero)
says_what_was_trimmed = Check(
    f"the copy fits the frame, a header named `*{TRIMMED}*` says what was cut", _trimmed
)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} chars)"


def kinds(account: str) -> list[Kind]:
    """The hostile kinds, in the order they are sent (each followed by a good deposit)."""

    def deposit(amount: str = "1.00", **fields: Any) -> bytes:
        return json.dumps(
            {"account_id": account, "amount": amount, "currency": "EUR", **fields}
        ).encode()

    def open_account(owner: str) -> bytes:
        fields = {"account_id": f"hostile-{uuid.uuid4().hex[:8]}", "owner": owner}
        return json.dumps({**fields, "currency": "EUR"}).encode()

    one = Decimal("1.00")
    valid = deposit()
    undecodable = "dead:undecodable_properties"
    forged = {
        "x-death": [
            {
                "queue": f"{QUEUE}.retry.5s",
                "reason": "expired",
                "count": 3,
                "exchange": "",
                "routing-keys": [f"{QUEUE}.retry.5s"],
                "time": Field("T", 1_700_000_000),
            }
        ],
        "attempts": 999,
        "retry-round": 2,
    }
    header_id = uuid.uuid4().hex
    long_key = "k" * 200
    types = {
        "t": (Field("t", True), "boolean true"),
        "b": (Field("b", -100), "signed 8-bit -100"),
        "B": (Field("B", 200), "unsigned 8-bit 200"),
        "s": (Field("s", -30000), "signed 16-bit -30000"),
        "u": (Field("u", 60000), "unsigned 16-bit 60000"),
        "I": (Field("I", -2_000_000_000), "signed 32-bit -2000000000"),
        "i": (Field("i", 4_000_000_000), "unsigned 32-bit 4000000000"),
        "l": (Field("l", -(2**62)), "signed 64-bit -2**62"),
        "f": (Field("f", 1.5), "32-bit float 1.5"),
        "d": (Field("d", 3.141592653589793), "double pi"),
        "D": (Field("D", Decimal("123.45")), "decimal 123.45"),
        "S": (Field("S", "long string, ünïcode"), 'long string "long string, ünïcode"'),
        "x": (Field("x", b"\x00\x01\xfe\xff"), "byte array 00 01 FE FF"),
        "A": (
            Field("A", [Field("I", 1), Field("S", "two"), Field("t", False)]),
            'array [1, "two", false]',
        ),
        "T": (Field("T", 1_700_000_000), "timestamp 1700000000"),
        "F": (
            Field("F", {"inner": Field("S", "v"), "n": Field("I", 5)}),
            'table {"inner": "v", "n": 5}',
        ),
        "V": (Field("V", None), "void"),
    }
    at_limit = deposit()
    at_limit += b" " * (MAX_BODY_BYTES - len(at_limit))

    found = [
        # Properties the worker's client cannot decode: settled, never a lost connection.
        Kind(
            "nonutf8-message-id",
            "`message_id` property `b'\\xff\\xfe'` + 8 hex (not UTF-8), valid Deposit body",
            undecodable,
            valid,
            {"message_id": b"\xff\xfe" + uuid.uuid4().hex[:8].encode()},
            checks=(raw_kept(b"\xff\xfe"),),
            delta=one,
        ),
        Kind(
            "nonutf8-correlation-id",
            "`correlation_id` property with bytes `\\xc3\\x28` (invalid UTF-8), valid Deposit",
            undecodable,
            valid,
            {"correlation_id": b"corr-\xc3\x28"},
            checks=(raw_kept(b"corr-\xc3\x28"),),
            delta=one,
        ),
        Kind(
            "nonutf8-type",
            "`type` property `b'Deposit\\xff'`, valid Deposit",
            undecodable,
            valid,
            {"type": b"Deposit\xff"},
            checks=(raw_kept(b"Deposit\xff"),),
            delta=one,
        ),
        Kind(
            "nonutf8-reply-to",
            "`reply_to` property `b'replies\\xff'`, valid Deposit",
            undecodable,
            valid,
            {"reply_to": b"replies\xff"},
            checks=(raw_kept(b"replies\xff"),),
            delta=one,
        ),
        Kind(
            "nonutf8-app-id",
            "`app_id` property `b'app\\x80'`, valid Deposit",
            undecodable,
            valid,
            {"app_id": b"app\x80"},
            checks=(raw_kept(b"app\x80"),),
            delta=one,
        ),
        Kind(
            "nonutf8-content-type",
            "`content_type` property `b'application/json\\xff'`, valid Deposit",
            undecodable,
            valid,
            {"content_type": b"application/json\xff"},
            checks=(raw_kept(b"application/json\xff"),),
            guess=True,
            delta=one,
        ),
        Kind(
            "nonutf8-header-key",
            "a header whose key is `b'k\\xffey'` (not UTF-8), valid Deposit",
            undecodable,
            valid,
            {"headers": {b"k\xffey": "value"}},
            checks=(raw_kept(shortstr(b"k\xffey")),),
            delta=one,
        ),
        Kind(
            "timestamp-property-max",
            "`timestamp` property 2**63-1 (past year 9999), valid Deposit",
            undecodable,
            valid,
            {"timestamp": 2**63 - 1},
            checks=(raw_kept((2**63 - 1).to_bytes(8, "big")),),
            delta=one,
        ),
        Kind(
            "timestamp-header-max",
            "a header `sent-at` of type T (timestamp) 2**63-1, valid Deposit",
            undecodable,
            valid,
            {"headers": {"sent-at": Field("T", 2**63 - 1)}},
            checks=(raw_kept(wire_value(Field("T", 2**63 - 1))),),
            delta=one,
        ),
        Kind(
            "nested-600",
            "a header table nested 600 tables deep, valid Deposit",
            undecodable,
            valid,
            {"headers": {"deep": Field("F", nested(600))}},
            checks=(raw_kept(nested(600)),),
            delta=one,
        ),
        Kind(
            "nested-400",
            "a header table nested 400 tables deep (pamqp reads it, but could not write it "
            "back), valid Deposit",
            undecodable,
            valid,
            {"headers": {"deep": Field("F", nested(400))}},
            checks=(raw_kept(nested(400)),),
        ),
        # Big headers: the copy must still fit the frame.
        _filled(
            Kind(
                "headers-130kb",
                f"about 130 KB of headers: 64 long strings making the properties {BIG} bytes, "
                f"just under what one {FRAME_MAX}-byte frame holds, on a malformed body",
                "dead:malformed_json",
                MALFORMED,
                {"headers": {f"pad-{i:02d}": "p" * ((BIG - 1000) // 64 - 12) for i in range(64)}},
                checks=(says_what_was_trimmed,),
            ),
            BIG,
        ),
        _filled(
            Kind(
                "reserved-name-130kb",
                "about 130 KB in one header named `original-exchange`, a name of the worker's "
                "own record, on a malformed body",
                "dead:malformed_json",
                MALFORMED,
                {"headers": {"original-exchange": "p"}},
                checks=(says_what_was_trimmed,),
            ),
            BIG,
        ),
        # Message ids in headers.
        Kind(
            "header-id-bytes-twice",
            "`message-id` header of type x (byte array) holding a UTF-8 id, sent twice with "
            "different random `message_id` properties",
            "accepted",
            valid,
            {"headers": {"message-id": header_id.encode()}},
            again=[{"message_id": uuid.uuid4().hex}],
            delta=one,
            inbox_id=header_id,
        ),
        Kind(
            "header-id-integer",
            "`message-id` header of type I (integer 12345), a `message_id` property, valid Deposit",
            "dead:invalid_message_id",
            valid,
            {"headers": {"message-id": Field("I", 12345)}},
            delta=one,
        ),
        Kind(
            "header-id-nonutf8-bytes",
            "`message-id` header of type x holding `b'\\xff\\xfe-id'` (not UTF-8), valid Deposit",
            "dead:invalid_message_id",
            valid,
            {"headers": {"message-id": b"\xff\xfe-id"}},
            delta=one,
        ),
        # What PostgreSQL's text cannot hold, and ids that identify nothing.
        Kind(
            "nul-in-field",
            'OpenAccount with `owner` "a\\u0000b" (NUL)',
            "dead:schema_validation_failed",
            open_account("a\u0000b"),
            command="OpenAccount",
        ),
        Kind(
            "nul-in-message-id",
            '`message_id` "nul\\x00id" (NUL inside), valid Deposit',
            "dead:invalid_message_id",
            valid,
            {"message_id": f"nul\x00{uuid.uuid4().hex[:8]}"},
            delta=one,
        ),
        Kind(
            "nul-in-correlation-id",
            '`correlation_id` "corr\\x00id" (NUL inside), valid Deposit',
            "dead:invalid_correlation_id",
            valid,
            {"correlation_id": "corr\x00id"},
            delta=one,
        ),
        Kind(
            "lone-surrogate",
            'OpenAccount with `owner` "x\\ud800y" (a lone surrogate, as a JSON escape)',
            "dead:schema_validation_failed",
            open_account("x\ud800y"),
            command="OpenAccount",
        ),
        Kind(
            "whitespace-message-id",
            '`message_id` "   " (only spaces), valid Deposit',
            "dead:invalid_message_id",
            valid,
            {"message_id": "   "},
            delta=one,
        ),
        # Header values of every type, on a malformed body: kept as sent.
        Kind(
            "header-double-1e300",
            "a header `big` of type d (double) 1e300 on a malformed body",
            "dead:malformed_json",
            MALFORMED,
            {"headers": {"big": Field("d", 1e300)}},
            checks=(keeps_header("big", Field("d", 1e300)),),
        ),
        *(
            Kind(
                f"header-type-{tag}",
                f"a header `typed` of AMQP field type {tag} ({words}) on a malformed body",
                "dead:malformed_json",
                MALFORMED,
                {"headers": {"typed": value}},
                checks=(keeps_header("typed", value),),
            )
            for tag, (value, words) in types.items()
        ),
        # Forged retry bookkeeping.
        Kind(
            "forged-retry-valid",
            "valid Deposit with a forged `x-death` naming accounts.commands.retry.5s, "
            "`attempts` 999, `retry-round` 2",
            "accepted",
            valid,
            {"headers": forged},
            delta=one,
        ),
        Kind(
            "forged-seal-non-ascii",
            "valid Deposit with `attempts` 1, `retry-round` 1 and a `retry-seal` of 64 "
            "non-ASCII characters (which an HMAC comparison refuses to compare)",
            "accepted",
            valid,
            {"headers": {"attempts": 1, "retry-round": 1, "retry-seal": "é" * 64}},
            delta=one,
        ),
        Kind(
            "timestamp-header-ms",
            "a header of type T holding 1700000000123 (read as milliseconds) on a malformed body",
            "dead:malformed_json",
            MALFORMED,
            {"headers": {"sent-at": Field("T", 1_700_000_000_123)}},
            checks=(keeps_header("sent-at", Field("T", 1_700_000_000_123)),),
        ),
        Kind(
            "forged-retry-malformed",
            "the same forged `x-death`, `attempts` 999, `retry-round` 2 on a malformed body",
            "dead:malformed_json",
            MALFORMED,
            {"headers": forged},
            checks=(attempts_zero,),
        ),
        # Replies aimed at the worker's own queues.
        Kind(
            "reply-to-dlq",
            "valid Deposit with `reply_to` accounts.commands.dlq (the DLQ must hold only "
            "expected letters)",
            "accepted",
            valid,
            {"reply_to": DLQ, "correlation_id": "reply-to-dlq"},
            delta=one,
        ),
        Kind(
            "reply-to-command-queue",
            "valid Deposit with `reply_to` accounts.commands (no reply may come back as a command)",
            "accepted",
            valid,
            {"reply_to": QUEUE, "correlation_id": "reply-to-queue"},
            delta=one,
        ),
        Kind(
            "cc-command-queue",
            "a `CC` header naming accounts.commands on a malformed body (a copy keeping it "
            "would land in the command queue again, and again)",
            "dead:malformed_json",
            MALFORMED,
            {"headers": {"CC": [QUEUE]}},
            checks=(keeps_header("original-cc", [QUEUE]),),
        ),
        # Unusual but legal properties: kept on the copy.
        Kind(
            "header-key-200-bytes",
            "a header whose key is 200 bytes long (AMQP says 128) on a malformed body",
            "dead:malformed_json",
            MALFORMED,
            {"headers": {long_key: "long"}},
            checks=(keeps_header(long_key, "long"),),
        ),
        Kind(
            "app-user-priority",
            '`app_id` "hostile-app", `user_id` "guest" (the connection\'s user), `priority` 7, '
            "on a malformed body",
            "dead:malformed_json",
            MALFORMED,
            {"app_id": "hostile-app", "user_id": "guest", "priority": 7},
            checks=(
                keeps_property("app_id", "hostile-app"),
                keeps_property("user_id", "guest"),
                keeps_property("priority", 7),
            ),
        ),
        # Content types and amounts.
        Kind(
            "charset-utf16",
            "`content_type` `application/json; charset=utf-16`, a Deposit encoded in UTF-16",
            "dead:unsupported_content_type",
            valid.decode().encode("utf-16"),
            {"content_type": "application/json; charset=utf-16"},
            delta=one,
        ),
        Kind(
            "charset-utf8",
            "`content_type` `application/json; charset=utf-8`, valid Deposit",
            "accepted",
            valid,
            {"content_type": "application/json; charset=utf-8"},
            delta=one,
        ),
        Kind(
            "jpy-decimal",
            'Deposit of JPY "100.0" to an EUR account (a trailing zero adds no precision: it '
            "passes the contract, and the account refuses the currency)",
            "rejected:currency_mismatch",
            json.dumps({"account_id": account, "amount": "100.0", "currency": "JPY"}).encode(),
        ),
        Kind(
            "eur-8-decimals",
            'Deposit of EUR "1.00000000" (8 decimal places of which 6 trailing zeros: '
            "no more precision than EUR's 2)",
            "accepted",
            deposit("1.00000000"),
            delta=one,
        ),
        # More in the same spirit: the expectations are this suite's (guess=True).
        Kind(
            "priority-255",
            "`priority` 255 (the queue has no priorities), valid Deposit",
            "accepted",
            valid,
            {"priority": 255},
            guess=True,
            delta=one,
        ),
        Kind(
            "expiration",
            '`expiration` "600000" (10 minutes), valid Deposit',
            "accepted",
            valid,
            {"expiration": "600000"},
            guess=True,
            delta=one,
        ),
        Kind(
            "empty-header-id",
            "an empty `message-id` header beside a random `message_id` property, valid Deposit",
            "dead:invalid_message_id",
            valid,
            {"headers": {"message-id": ""}},
            guess=True,
            delta=one,
        ),
        Kind(
            "multibyte-header-id",
            '`message-id` header "é" x 200 (200 characters, 400 bytes: ids stop at 255 bytes)',
            "dead:invalid_message_id",
            valid,
            {"headers": {"message-id": "é" * 200}},
            guess=True,
            delta=one,
        ),
        Kind(
            "control-char-id",
            '`message_id` "bell\\x07" + 8 hex (a C0 control character), valid Deposit',
            "dead:invalid_message_id",
            valid,
            {"message_id": f"bell\x07{uuid.uuid4().hex[:8]}"},
            guess=True,
            delta=one,
        ),
        Kind(
            "nonutf8-header-value",
            "a header `note` of type S (long string) holding `b'caf\\xe9'` (Latin-1) "
            "on a malformed body",
            "dead:malformed_json",
            MALFORMED,
            {"headers": {"note": Field("S", b"caf\xe9")}},
            checks=(keeps_header("note", Field("S", b"caf\xe9")),),
            guess=True,
        ),
        Kind(
            "huge-string-header",
            "a header `blob` of type S, 100,000 bytes, on a malformed body",
            "dead:malformed_json",
            MALFORMED,
            {"headers": {"blob": "b" * 100_000}},
            checks=(keeps_header("blob", "b" * 100_000),),
            guess=True,
        ),
        Kind(
            "type-mismatch",
            "valid Deposit through `commands` with routing key Deposit but `type` Withdraw",
            "accepted",
            valid,
            {"type": "Withdraw"},
            guess=True,
            delta=one,
        ),
        Kind(
            "body-at-limit",
            f"valid Deposit padded with spaces to exactly MAX_BODY_BYTES ({MAX_BODY_BYTES})",
            "accepted",
            at_limit,
            guess=True,
            delta=one,
        ),
        Kind(
            "body-limit-plus-one",
            f"the same, one byte longer ({MAX_BODY_BYTES + 1} bytes)",
            "dead:body_too_large",
            at_limit + b" ",
            guess=True,
        ),
        Kind(
            "utf8-bom",
            "valid Deposit preceded by a UTF-8 byte order mark (EF BB BF)",
            "dead:malformed_json",
            b"\xef\xbb\xbf" + valid,
            guess=True,
        ),
        Kind(
            "nan-literal",
            "Deposit whose amount is the bare literal NaN (not JSON)",
            "dead:malformed_json",
            f'{{"account_id": "{account}", "amount": NaN, "currency": "EUR"}}'.encode(),
            guess=True,
        ),
        Kind(
            "duplicate-keys",
            'Deposit with `amount` twice ("1.00", then "900.00"): which one counts?',
            "dead:malformed_json",
            f'{{"account_id": "{account}", "amount": "1.00", "amount": "900.00", '
            '"currency": "EUR"}'.encode(),
            guess=True,
            delta=Decimal("900.00"),
        ),
        Kind(
            "unicode-digits",
            'Deposit of amount "\\u0661\\u0660" (Arabic-Indic digits, which Python\'s '
            "Decimal reads as 10)",
            "dead:schema_validation_failed",
            deposit("\u0661\u0660"),
            guess=True,
            delta=Decimal(10),
        ),
        Kind(
            "account-id-newline",
            'Deposit to account_id "<account>\\n" (a trailing newline)',
            "dead:schema_validation_failed",
            json.dumps(
                {"account_id": f"{account}\n", "amount": "1.00", "currency": "EUR"}
            ).encode(),
            guess=True,
        ),
    ]
    return found


def _filled(kind: Kind, size: int) -> Kind:
    """``kind`` with its last header grown until its properties are ``size`` bytes."""
    headers = kind.properties["headers"]
    last = list(headers)[-1]
    headers[last] += "p" * (size - len(kind.wire()[0]))
    assert len(kind.wire()[0]) == size
    return kind


def markdown(found: list[Kind]) -> str:
    """The kinds as the table of docs/bad-input.md."""
    lines = [
        "| # | kind | what is sent | expected |",
        "| --- | --- | --- | --- |",
    ]
    for number, kind in enumerate(found, 1):
        expected = f"`{kind.code}` in the DLQ" if kind.code else f"{kind.expect}, once"
        if kind.checks:
            expected += "; " + "; ".join(check.words for check in kind.checks)
        if kind.guess:
            expected += " (*)"
        sent = kind.sent.replace("|", "\\|")
        lines.append(f"| {number} | `{kind.name}` | {sent} | {expected} |")
    return "\n".join(lines)


#: docs/bad-input.md holds :func:`markdown` between these lines.
BEGIN = "<!-- the kinds: python -m tests.faults.hostile writes this table -->"
END = "<!-- end of the kinds -->"


def with_table(page: str, table: str) -> str:
    """``page`` with the part between :data:`BEGIN` and :data:`END` replaced by ``table``."""
    head, _, rest = page.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


if __name__ == "__main__":
    from pathlib import Path

    from tests.faults.bad_input import all_kinds

    docs = Path(__file__).resolve().parents[2] / "docs" / "bad-input.md"
    docs.write_text(with_table(docs.read_text(), markdown(all_kinds("<account>"))))
    print(f"wrote the table of {len(all_kinds('<account>'))} kinds to {docs}")
