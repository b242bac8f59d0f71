"""The operator's ``dlq`` commands over what scenario 7 leaves in the DLQ.

``list`` (which reads every letter), ``show`` (one letter of each error code, and
the letters with the strangest headers), ``retry`` and ``edit`` of one ordinary and
one undecodable letter, then ``purge`` of everything left, as an operator would.
Each must exit cleanly: 0, or a refusal in one ``error:`` line, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.harness import run_cli
from tests.faults.environment import Environment
from tests.faults.hostile import QUEUE

REASON = "fault suite, scenario 7"
#: Kinds whose letters are also shown as text (beside one letter of each error code as
#: JSON): the headers hardest to print. Every letter goes through ``list`` anyway.
SHOWN_AS_TEXT = ("nested-600", "nonutf8-header-key", "timestamp-header-max", "headers-130kb")
#: Exit codes of a clean refusal (``retry``: 1 stopped or skipped, 3 no outcome;
#: ``edit``: 2 refused).
REFUSALS = {1, 2, 3}


@dataclass
class CliRun:
    """What the commands did: problems found, and the letters sent back (by ref)."""

    problems: list[str] = field(default_factory=list)
    #: ref -> the body it was sent back with (an edit changes it).
    sent_back: dict[str, bytes] = field(default_factory=dict)
    #: One line per command run: what, how long, its exit code and last line of output.
    log: list[str] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return len(self.log)


def _dlq(env: Environment, cli: CliRun, *args: str) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    done = run_cli(env.worker_env(), "dlq", *args, timeout=120)
    said = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or [""]
    shown = " ".join(a if len(a) < 40 else f"<{len(a)} chars>" for a in args[:6])
    cli.log.append(
        f"dlq {shown}: exit {done.returncode} in {time.monotonic() - started:.1f}s: {said[0][:160]}"
    )
    return done


def _clean(cli: CliRun, what: str, done: subprocess.CompletedProcess[str], refusal: bool) -> bool:
    """Exit 0, or (``refusal`` allowed) a refusal in one ``error:`` line; no traceback."""
    output = done.stdout + done.stderr
    if "Traceback" in output:
        tail = output.strip().splitlines()[-1:]
        cli.problems.append(f"dlq {what}: exit {done.returncode} with a traceback: {tail}")
        return False
    if done.returncode == 0:
        return True
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    if refusal and done.returncode in REFUSALS and len(lines) <= 1:
        return True
    cli.problems.append(f"dlq {what}: exit {done.returncode}: {done.stderr.strip()[:300]!r}")
    return False


def listed(env: Environment, cli: CliRun) -> dict[str, dict[str, Any]] | None:
    """``dlq list --json``: every letter of accounts.commands.dlq by its id."""
    done = _dlq(env, cli, "list", "--queue", QUEUE, "--json")
    if not _clean(cli, "list --json", done, refusal=False):
        return None
    try:
        found = json.loads(done.stdout)
    except ValueError:
        cli.problems.append(f"dlq list --json printed no JSON: {done.stdout[:200]!r}")
        return None
    return {
        message["id"]: {**message, "error_code": group["error_code"]}
        for queue in found
        for group in queue["groups"]
        for message in group["messages"]
    }


def exercise(env: Environment, ids: dict[str, str], bodies: dict[str, bytes]) -> CliRun:
    """Drive the commands; ``ids`` maps each ref to its letter's ``dlq-id``, ``bodies``
    to what it sent."""
    cli = CliRun()
    letters = listed(env, cli)
    if letters is None:
        return cli
    missing = sorted(ref for ref, dlq_id in ids.items() if dlq_id not in letters)
    if missing:
        cli.problems.append(f"dlq list lacks the letters of {missing}")
    refs = {dlq_id: ref for ref, dlq_id in ids.items()}

    codes: set[str] = set()
    for dlq_id, letter in letters.items():
        ref = refs.get(dlq_id, "?")
        first = letter["error_code"] not in codes
        codes.add(letter["error_code"])
        if first or ref.rsplit("-", 1)[0] in SHOWN_AS_TEXT:
            args = ("show", dlq_id, "--json") if first else ("show", dlq_id)
            done = _dlq(env, cli, *args)
            what = f"{' '.join(args)} ({ref}, {letter['error_code']})"
            if _clean(cli, what, done, refusal=False) and first:
                try:
                    json.loads(done.stdout)
                except ValueError:
                    cli.problems.append(f"dlq {what} printed no JSON")

    def pick(name: str) -> tuple[str, str] | None:
        for ref, dlq_id in ids.items():
            if ref.startswith(f"{name}-") and dlq_id in letters:
                return ref, dlq_id
        return None

    for name in ("truncated-json", "nonutf8-correlation-id"):
        chosen = pick(name)
        if chosen is None:
            cli.problems.append(f"dlq retry: no letter of {name} to retry")
            continue
        ref, dlq_id = chosen
        done = _dlq(env, cli, "resend", dlq_id, "--reason", REASON, "--watch-timeout", "15")
        if _clean(cli, f"retry {dlq_id} ({ref})", done, refusal=True):
            cli.sent_back[ref] = bodies[ref]

    for name, amount in (("three-decimals", "1.00"), ("timestamp-property-max", "2.00")):
        chosen = pick(name)
        if chosen is None:
            cli.problems.append(f"dlq edit: no letter of {name} to edit")
            continue
        ref, dlq_id = chosen
        done = _dlq(
            env,
            cli,
            "edit",
            dlq_id,
            "--set",
            f"amount={amount}",
            "--reason",
            REASON,
            "--watch-timeout",
            "15",
        )
        if _clean(cli, f"edit {dlq_id} ({ref})", done, refusal=True):
            edited = {**json.loads(bodies[ref]), "amount": amount}
            cli.sent_back[ref] = json.dumps(edited).encode()

    left = listed(env, cli)
    if left:
        done = _dlq(env, cli, "purge", *left, "--reason", REASON)
        _clean(cli, f"purge of {len(left)} letters", done, refusal=False)
        after = listed(env, cli)
        if after:
            kept = sorted({letter["error_code"] for letter in after.values()})
            cli.problems.append(f"dlq purge left {len(after)} letters ({kept})")
    return cli
