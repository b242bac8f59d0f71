"""Scenario 7: every kind of bad input is settled with its precise reason; neighbours pass.

The cases of tests/e2e/test_invalid_input.py and more (tests/faults/bad_input.py),
and the hostile kinds of tests/faults/hostile.py (properties the worker's AMQP
client cannot decode, every field type, forged retry headers, replies aimed at
the worker's own queues...), each followed by a good deposit, published as raw
AMQP on one connection. Then, under the checker: 0 lost, 0 applied twice, no valid
command dead-lettered, the worker's connection never lost, every bad message
settled as expected (its DLQ letter with its error code and what its kind
requires of the copy, or applied once) within :data:`SETTLE_LIMIT` seconds and
at the first attempt, and nothing else in the DLQ. Finally the ``dlq`` commands
work through what is left (tests/faults/dlq_cli.py).

Every problem is collected and reported at once, kind by kind.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest

from tests.faults import dlq_cli
from tests.faults.bad_input import all_kinds
from tests.faults.broker import DEAD_LETTER_QUEUES, DeadLetter
from tests.faults.chaos import consumers_on
from tests.faults.dlq_watch import DlqWatcher, drain, ref_of, worker_connections
from tests.faults.environment import Environment
from tests.faults.figures import RECORDED
from tests.faults.hostile import QUEUE, Kind, Letter, markdown
from tests.faults.observe import read_database
from tests.faults.publishers import publish_raw
from tests.faults.scenarios import Run
from tests.faults.traffic import REF_HEADER, Planned
from tests.faults.workloads import deposit, new_id
from tests.hostile_amqp import Field, decode_properties, encode_properties, reading_raw, same_value

pytestmark = pytest.mark.faults

#: "Within seconds": from publish to the letter in the DLQ (or the inbox row).
SETTLE_LIMIT = 5.0
#: How long to wait for every outcome before reporting what is missing.
OBSERVE_TIMEOUT = 90.0
#: No new letter for this long once everything is seen: nothing more is coming.
QUIET = 1.5
DOCS = Path(__file__).resolve().parents[2] / "docs" / "bad-input.md"
#: What the worker logs when a broker session ends (see worker/service.py).
LOST = ("lost the broker connection", "reconnecting in", "broker session failed")


@dataclass(frozen=True)
class Seen:
    outcome: str
    at: float


Send = tuple[Planned, str, str, bytes, bytes]


def sends_of(kinds: list[Kind], account: str) -> tuple[list[Send], list[Planned]]:
    """Each kind's messages, each followed by a good deposit; and the good deposits."""
    sends, good = [], []
    for kind in kinds:
        planned = kind.planned()
        exchange, key = ("", QUEUE) if kind.direct else ("commands", kind.command)
        sends += [(planned, exchange, key, raw, kind.body) for raw in kind.wire()]
        neighbour = deposit(account, "1.00")
        good.append(neighbour)
        sends.append(plain_send(neighbour))
    # Sent to the queue, a known name in ``type`` is applied: so the unknown-command
    # kind (type Teleport, the same way) is refused for its name alone.
    direct = deposit(account, "1.00")
    direct.queue, direct.type = QUEUE, "Deposit"
    good.append(direct)
    sends.append(plain_send(direct))
    return sends, good


def plain_send(message: Planned) -> Send:
    raw = encode_properties(
        content_type=message.content_type,
        headers={REF_HEADER: message.ref},
        delivery_mode=2,
        message_id=message.message_id,
        type=message.type,
    )
    exchange, key = ("", message.queue) if message.queue else ("commands", message.command)
    return message, exchange, key, raw, message.body


def by_ref(letters: list[Letter]) -> dict[str | None, list[Letter]]:
    found: defaultdict[str | None, list[Letter]] = defaultdict(list)
    for letter in letters:
        found[ref_of(letter)].append(letter)
    return found


async def observe(
    env: Environment, planned: list[Planned], watcher: DlqWatcher, timeout: float
) -> dict[str, Seen]:
    """When each message's outcome first showed: its inbox row, or its letter in the DLQ."""
    seen: dict[str, Seen] = {}
    deadline = time.monotonic() + timeout
    quiet_since, letters_before = None, -1
    while time.monotonic() < deadline:
        now = time.time()
        snapshot = await read_database(env.database_url)
        letters = watcher.letters
        dead = by_ref(letters)
        for message in planned:
            if message.ref in seen:
                continue
            recorded = snapshot.inbox.get(message.message_id or "")
            if recorded is not None:
                status, code = recorded
                seen[message.ref] = Seen(
                    status if status == "accepted" else f"{status}:{code}", now
                )
            elif message.ref in dead:
                first = min(dead[message.ref], key=lambda letter: letter.at)
                seen[message.ref] = Seen(f"dead:{first.text('error-code')}", first.at)
        if len(seen) == len(planned):
            if len(letters) != letters_before:
                quiet_since, letters_before = time.monotonic(), len(letters)
            elif quiet_since is not None and time.monotonic() - quiet_since > QUIET:
                break
        await asyncio.sleep(0.25)
    return seen


def judge(
    kind: Kind, seen: Seen | None, sent_at: float, letters: list[Letter]
) -> tuple[list[str], float | None]:
    """What is wrong with one kind's outcome, and how long it took to settle (for one
    that did not, how long it was watched)."""
    if seen is None:
        waited = round(time.time() - sent_at, 1)
        return [f"not settled after {waited}s (no inbox row, no letter)"], waited
    took = round(seen.at - sent_at, 2)
    problems = []
    if seen.outcome != kind.expect:
        problems.append(f"{seen.outcome}, expected {kind.expect}")
    if took > SETTLE_LIMIT:
        problems.append(f"settled after {took}s")
    if kind.code is None:
        if letters:
            codes = [letter.text("error-code") for letter in letters]
            problems.append(
                f"expected {kind.expect}, yet {len(letters)} letters in the DLQ {codes}"
            )
        return problems, took
    if len(letters) > 1:
        problems.append(f"{len(letters)} copies in the DLQ")
    for letter in letters[:1]:
        if letter.header("failure-class") not in ("invalid", b"invalid"):
            problems.append(f"failure-class {letter.header('failure-class')!r}, not invalid")
        if letter.body != kind.body:
            problems.append(f"body changed ({len(kind.body)} bytes sent, {len(letter.body)} kept)")
        if letter.text("error-code") == kind.code:
            for check in kind.checks:
                problems += check(letter)
    return problems, took


def judge_stream(
    kinds: list[Kind],
    good: list[Planned],
    seen: dict[str, Seen],
    sent_at: dict[str, float],
    dead: dict[str | None, list[Letter]],
) -> tuple[list[str], dict[str, float], int]:
    """Problems of the whole stream, each kind's seconds to settle, and how many letters
    of valid deposits are in the DLQ. Prints one line per kind."""
    problems: list[str] = []
    took: dict[str, float] = {}
    for kind in kinds:
        letters = dead.get(kind.ref, [])
        found, seconds = judge(kind, seen.get(kind.ref), sent_at[kind.ref], letters)
        problems += [f"{kind.name}: {problem}" for problem in found]
        if seconds is not None:
            took[kind.name] = seconds
        outcome = seen[kind.ref].outcome if kind.ref in seen else "not settled"
        attempts = [letter.header("attempts") for letter in letters]
        verdict = "FAILS" if found else "ok"
        print(f"{verdict:5} {kind.name}: {outcome} after {seconds}s (attempts {attempts})")
    valid_dead = sum(len(dead.get(message.ref, [])) for message in good)
    if valid_dead:
        problems.append(f"{valid_dead} letters of valid deposits in the DLQ")
    unapplied = {
        message.ref: seen[message.ref].outcome if message.ref in seen else "not settled"
        for message in good
        if message.ref not in seen or seen[message.ref].outcome != "accepted"
    }
    if unapplied:
        shown = ", ".join(f"{ref} {outcome}" for ref, outcome in list(unapplied.items())[:3])
        problems.append(f"{len(unapplied)} of {len(good)} valid deposits not applied: {shown}...")
    known = {kind.ref for kind in kinds} | {message.ref for message in good}
    for stray in (letter for ref, group in dead.items() if ref not in known for letter in group):
        problems.append(
            f"an unexpected letter in the DLQ: {stray.text('error-code')} "
            f"routing {stray.text('original-routing-key')!r}, body {stray.body[:80]!r}"
        )
    return problems, took, valid_dead


def dlq_ids(kinds: list[Kind], dead: dict[str | None, list[Letter]]) -> dict[str, str]:
    ids = {}
    for kind in kinds:
        for letter in dead.get(kind.ref, [])[:1]:
            dlq_id = letter.text("dlq-id")
            if dlq_id:
                ids[kind.ref] = dlq_id
    return ids


def connections_lost(before: list[str], after: list[str], log: str) -> tuple[int, list[str]]:
    """How many broker sessions the worker lost, and what says so."""
    evidence = [f"{log.count(line)}x {line!r} in the log" for line in LOST if line in log]
    lost = log.count("reconnecting in")
    if len(before) != 1 or before != after:
        lost = max(lost, 1)
        evidence.append(f"worker connections {before} at the start, {after} at the end")
    return lost, evidence


def record_sent_back(
    run: Run, sent_back: dict[str, bytes], inbox: dict[str, tuple[str, str | None]]
) -> None:
    """A letter the CLI sent back and the worker accepted is accepted in the ledger too
    (with the body it was sent back with): the checker then proves it applied once."""
    for ref, body in sent_back.items():
        message = run.ledger.planned[ref]
        status, _ = inbox.get(message.message_id or "", ("", None))
        if status == "accepted":
            amount = Decimal(json.loads(body)["amount"])
            message.body, message.expect, message.delta = body, "accepted", amount
            run.checker.dead.pop(ref, None)


def to_checker(run: Run, letters: list[Letter]) -> None:
    """Every letter seen goes to the checker's record of the DLQs (it cannot read them)."""
    for letter in letters:
        ref = ref_of(letter)
        message_id = letter.properties.get("message_id")
        key = ref or f"anonymous-{len(run.checker.dead)}"
        run.checker.dead.setdefault(
            key,
            DeadLetter(
                ref=ref,
                message_id=message_id if isinstance(message_id, str) else None,
                queue=letter.queue,
                error_code=letter.text("error-code"),
                failure_class=letter.text("failure-class"),
            ),
        )


async def test_every_kind_of_bad_input_is_settled_with_its_reason_and_the_worker_stays_healthy(
    env: Environment,
) -> None:
    account = new_id("neighbour")
    kinds = all_kinds(account)
    run = Run.new(f"7 {len(kinds)} kinds of bad input", env)
    worker = await run.cluster.start("worker")
    await run.prepare([account])
    before = await asyncio.to_thread(worker_connections, env.vhost)
    sends, good = sends_of(kinds, account)
    planned = [kind.planned() for kind in kinds] + good
    with reading_raw():
        watcher = DlqWatcher(env.amqp_url)
        watcher.start()
        sent_at = await asyncio.to_thread(publish_raw, env.amqp_url, run.ledger, sends)
        seen = await observe(env, planned, watcher, OBSERVE_TIMEOUT)
        letters = watcher.stop()
        assert watcher.error is None, f"the DLQ watcher failed: {watcher.error!r}"
        dead = by_ref(letters)

        problems, took, valid_dead = judge_stream(kinds, good, seen, sent_at, dead)
        if worker.process is None or worker.process.poll() is not None:
            problems.append(f"the worker exited: {worker.process and worker.process.poll()}")
        if consumers_on(env.vhost, QUEUE) != 1:
            problems.append(f"{consumers_on(env.vhost, QUEUE)} consumers on {QUEUE}, not 1")

        # The operator's tools over what is left (the watcher gave every letter back).
        bodies = {kind.ref: kind.body for kind in kinds}
        cli = await asyncio.to_thread(dlq_cli.exercise, env, dlq_ids(kinds, dead), bodies)
        problems += cli.problems
        after = await asyncio.to_thread(worker_connections, env.vhost)
        left = await asyncio.to_thread(drain, env.amqp_url, DEAD_LETTER_QUEUES)

    lost, evidence = connections_lost(before, after, run.cluster.log())
    problems += [f"connection lost: {line}" for line in evidence]
    to_checker(run, letters + left)
    record_sent_back(run, cli.sent_back, (await read_database(env.database_url)).inbox)
    report = await run.finish(timeout=60)
    slowest = max(took.values(), default=None)
    RECORDED[-1] = replace(
        RECORDED[-1], valid_dead=valid_dead, connections_lost=lost, slowest_settle=slowest
    )
    try:
        run.assert_sound(report)
    except AssertionError as unsound:
        problems.append(f"unsound: {unsound}")
    if "Traceback" in run.cluster.log():
        problems.append("a traceback in the worker log")
    failing = {problem.split(":", 1)[0] for problem in problems} & {k.name for k in kinds}
    print(*cli.log, sep="\n")
    summary = (
        f"{len(kinds)} kinds, {len(failing)} failing; slowest settled in {slowest}s; "
        f"{lost} connections lost; {cli.calls} dlq commands"
    )
    assert not problems, summary + "\n" + "\n".join(problems)


def test_docs_list_every_kind() -> None:
    """docs/bad-input.md has the table of every kind ``python -m tests.faults.hostile``
    writes there."""
    table = markdown(all_kinds("<account>"))
    assert table in DOCS.read_text(), f"{DOCS} is stale: python -m tests.faults.hostile"


def test_what_the_scenario_writes_it_reads_back_the_same() -> None:
    """The raw encoder and the tolerant reader agree on every kind (no broker needed):
    what the checks read from a DLQ copy is what was sent."""
    for kind in all_kinds("<account>"):
        for raw, sent in zip(kind.wire(), kind.copies(), strict=True):
            read = decode_properties(raw)
            assert "undecodable" not in read, kind.name
            for name, value in sent.items():
                if name == "headers":
                    assert all(same_value(v, read["headers"][k]) for k, v in value.items()), name
                elif value is not None:
                    assert read[name] == value, (kind.name, name)
    assert not same_value(Field("I", 1), Field("S", "1")), "a number is not a string"
    assert not same_value(Field("x", b"a"), Field("S", "a")), "nor bytes a long string"
    assert same_value(Field("u", 7), Field("l", 7)), "an integer may change width"
