"""``python -m bench all|sagas|orders|projections|http [--quick]``: the worker beside
hand-written baselines.

Every comparison alternates the two sides within one run on one machine; each
figure is the median of the rounds. Prints a table and writes a JSON file.
``sagas`` runs the transfer and order sagas only, ``orders`` the order saga only,
``projections`` the read side only (a projection applying events, commit→projection),
``http`` the front door only (``POST /commands/Deposit`` against publishing straight to
RabbitMQ).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from bench.commands import Round, as_json, latency, median_round, throughput_round
from bench.env import Environment
from bench.http import compare_http
from bench.orders import compare_orders
from bench.processes import baseline_process, worker_process
from bench.projections import compare_applying, projection_latency
from bench.report import report
from bench.sagas import compare_sagas

console = Console(stderr=True)
PARTS = ("all", "sagas", "orders", "projections", "http")


def plan(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "n": 300,
            "accounts": 100,
            "rounds": 1,
            "rate_seconds": 2,
            "big_accounts": 2_000,
            "big_inbox": 20_000,
            "transfers": 30,
            "orders": 10,
        }
    return {
        "n": 5_000,
        "accounts": 1_000,
        "rounds": 3,
        "rate_seconds": 10,
        "big_accounts": 100_000,
        "big_inbox": 1_000_000,
        "transfers": 300,
        "orders": 200,
    }


async def compare(
    env: Environment, logs: Path, progress: Progress, p: dict[str, Any], hot: float
) -> dict[str, Any]:
    rounds: dict[str, list[Round]] = {"worker": [], "baseline": []}
    task = progress.add_task(f"throughput{' (hot spot)' if hot else ''}", total=2 * p["rounds"])
    for _ in range(p["rounds"]):
        for side, factory in (("worker", worker_process), ("baseline", baseline_process)):
            rounds[side].append(
                await throughput_round(
                    env, factory, side, logs, n=p["n"], accounts=p["accounts"], hot=hot
                )
            )
            progress.advance(task)
    worker, baseline = median_round(rounds["worker"]), median_round(rounds["baseline"])
    return {
        "worker": worker.__dict__,
        "baseline": baseline.__dict__,
        "ratio": worker.per_second / baseline.per_second,
        "rounds": {side: as_json(r) for side, r in rounds.items()},
    }


async def growth(
    env: Environment, logs: Path, progress: Progress, p: dict[str, Any]
) -> dict[str, float]:
    cases = {
        "accounts_small": {"accounts": p["accounts"]},
        "accounts_large": {"accounts": p["big_accounts"]},
        "inbox_large": {"accounts": p["accounts"], "inbox_rows": p["big_inbox"]},
        "two_workers": {"accounts": p["accounts"], "workers": 2},
    }
    task = progress.add_task("growth", total=len(cases))
    result = {}
    for name, options in cases.items():
        r = await throughput_round(env, worker_process, "worker", logs, n=p["n"], **options)
        result[name] = r.per_second
        progress.advance(task)
    return result


async def command_parts(
    env: Environment, logs: Path, progress: Progress, p: dict[str, Any]
) -> dict[str, Any]:
    uniform = await compare(env, logs, progress, p, hot=0.0)
    hot = await compare(env, logs, progress, p, hot=0.2)
    task = progress.add_task("latency", total=1)
    rate = uniform["worker"]["per_second"] / 2
    lat = await latency(
        env, worker_process, logs, rate=rate, seconds=p["rate_seconds"], accounts=p["accounts"]
    )
    progress.advance(task)
    return {
        "throughput": uniform,
        "throughput_hot_spot": hot,
        "latency": {"rate_per_second": rate, **lat},
        "growth": await growth(env, logs, progress, p),
    }


async def projection_parts(
    env: Environment, logs: Path, progress: Progress, p: dict[str, Any], commands: float | None
) -> dict[str, Any]:
    """The read side at ``commands``/2 per second (measured here when not given)."""
    task = progress.add_task("projections", total=2 * p["rounds"] + 1)
    applying = await compare_applying(
        env, logs, p["n"], p["rounds"], p["accounts"], lambda: progress.advance(task)
    )
    if commands is None:
        round_ = await throughput_round(
            env, worker_process, "worker", logs, n=p["n"], accounts=p["accounts"]
        )
        commands = round_.per_second
    lat = await projection_latency(
        env, logs, rate=commands / 2, seconds=p["rate_seconds"], accounts=p["accounts"]
    )
    progress.advance(task)
    return {"projection_applying": applying, "projection_latency": lat}


async def run_all(quick: bool, out: Path, part: str = "all") -> dict[str, Any]:
    p = plan(quick)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "part": part,
        "machine": {
            "cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "plan": p,
    }
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    env = await Environment().open()
    try:
        with Progress(console=console, transient=True) as progress:
            if part == "all":
                results.update(await command_parts(env, logs, progress, p))
            if part in ("all", "projections"):
                measured = results["throughput"]["worker"]["per_second"] if part == "all" else None
                results.update(await projection_parts(env, logs, progress, p, measured))
            if part in ("all", "http"):
                task = progress.add_task("front door", total=2 * p["rounds"])
                results["http"] = await compare_http(
                    env, logs, p["n"], p["rounds"], p["accounts"], lambda: progress.advance(task)
                )
            if part in ("all", "sagas"):
                task = progress.add_task("sagas", total=2 * p["rounds"])
                results["sagas"] = await compare_sagas(
                    env, p["transfers"], p["rounds"], p["accounts"], lambda: progress.advance(task)
                )
            if part in ("all", "sagas", "orders"):
                task = progress.add_task("orders", total=2 * p["rounds"])
                results["orders"] = await compare_orders(
                    env, p["orders"], p["rounds"], p["accounts"], lambda: progress.advance(task)
                )
    finally:
        await env.close()
    return results


def save(results: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("part", choices=PARTS, help="what to run")
    parser.add_argument("--quick", action="store_true", help="a few hundred messages per part")
    parser.add_argument(
        "--out", type=Path, default=Path(".data/bench.json"), help="where the JSON results go"
    )
    args = parser.parse_args()
    results = asyncio.run(run_all(args.quick, args.out, args.part))
    save(results, args.out)
    report(results)
    console.print(f"results: {args.out}")


if __name__ == "__main__":
    main()
