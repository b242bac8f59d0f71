"""``python -m tests.faults --soak 10m``: the fault suite's soak mode (not run in CI).

It needs what the suite needs: the local RabbitMQ and PostgreSQL (``make test``
starts them), and it starts its own Temporal dev server. The faults ``rabbitmq``
and ``postgres`` stop those servers for the whole machine; ``--skip`` them when
others use it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import sys
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import typer

from tests.faults.environment import ROOT, environment, migrated_database, own_temporal
from tests.faults.figures import save, table
from tests.faults.soak import FAULTS, soak
from tests.services import drop_database

UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``10m`` or ``1h`` as seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text.lower())
    if found is None:
        raise ValueError(f"--soak {text!r} is not a duration (e.g. 90s, 10m, 1h)")
    return float(found[1]) * UNITS[found[2]]


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command()
def main(
    soak_for: str = typer.Option(..., "--soak", help="How long to soak: 90s, 10m, 1h."),
    seed: int | None = typer.Option(None, "--seed", help="Replay the random choices of a run."),
    skip: list[str] = typer.Option(
        [], "--skip", help=f"A fault not to inject (repeatable): {', '.join(FAULTS)}."
    ),
    logs: Path | None = typer.Option(None, "--logs", help="Where worker logs go (default .data/)."),
) -> None:
    """Combine the suite's faults at random for a while; print the figures of every round."""
    try:
        seconds = parse_duration(soak_for)
    except ValueError as error:
        fail(str(error))
    unknown = set(skip) - set(FAULTS)
    if unknown:
        fail(f"unknown fault {', '.join(sorted(unknown))}; choose from {', '.join(FAULTS)}")
    if seed is None:
        seed = random.randrange(1 << 30)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    log_dir = logs or ROOT / ".data" / f"soak-{stamp}"
    typer.echo(f"soaking for {seconds:g}s, seed {seed}, logs in {log_dir}", err=True)
    for library in ("aiormq", "aio_pika"):  # their tales of each broker restart
        logging.getLogger(library).setLevel(logging.CRITICAL)
    allowed = [fault for fault in FAULTS if fault not in skip]
    template = f"faults_soak_{uuid.uuid4().hex[:8]}"
    migrated_database(template)
    temporal = own_temporal(Path(tempfile.mkdtemp(prefix="soak-temporal-"))).start()
    try:
        with environment(template, temporal.address, log_dir, "soak") as env:
            results, held = asyncio.run(soak(env, temporal, seconds, seed, allowed))
    finally:
        temporal.stop()
        drop_database(template)
    typer.echo(table(results))
    typer.echo(f"(also in {save(results, ROOT / '.data' / 'faults-soak.json')})")
    if not held:
        raise typer.Exit(1)


if __name__ == "__main__":
    app(prog_name=f"{Path(sys.executable).name} -m tests.faults")
