"""The benchmark's table: one row per figure, beside its baseline and its target."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def report(results: dict[str, Any]) -> None:
    table = Table(title=f"bench ({'quick' if results['quick'] else 'full'}) {results['when']}")
    for column in ("measure", "worker", "baseline", "worker/baseline", "target"):
        table.add_column(column)
    if "throughput" in results:
        command_rows(table, results)
    if "projection_applying" in results:
        projection_rows(table, results)
    if "http" in results:
        http_rows(table, results["http"])
    for key, label, target in (
        ("sagas", "transfers/s (sagas)", ">= 0.8"),
        ("orders", "orders/s (sagas)", "(a figure)"),
    ):
        if key in results:
            s = results[key]
            w, b = f"{s['worker_per_second']:.1f}", f"{s['baseline_per_second']:.1f}"
            table.add_row(label, w, b, f"{s['ratio']:.2f}", target)
    Console().print(table)


def command_rows(table: Table, results: dict[str, Any]) -> None:
    for key, label in (
        ("throughput", "commands/s"),
        ("throughput_hot_spot", "commands/s, 20% hot"),
    ):
        t = results[key]
        table.add_row(
            label,
            f"{t['worker']['per_second']:.0f}",
            f"{t['baseline']['per_second']:.0f}",
            f"{t['ratio']:.2f}",
            ">= 0.8 and >= 1000/s",
        )
    lat = results["latency"]
    for key, target in (("publish_to_commit", "p99 < 50 ms"), ("outbox_lag", "p99 < 100 ms")):
        v = lat[key]
        table.add_row(
            f"{key} @ {lat['rate_per_second']:.0f}/s",
            f"p50 {v['p50_ms']:.1f} p95 {v['p95_ms']:.1f} p99 {v['p99_ms']:.1f} ms",
            "",
            "",
            target,
        )
    w = results["throughput"]["worker"]
    table.add_row("peak RSS", f"{w['peak_rss_mb']:.0f} MB", "", "", "< 150 MB")
    table.add_row("CPU per 1,000 commands", f"{w['cpu_seconds_per_1000']:.2f} s", "", "", "")
    table.add_row("start-up to ready", f"{w['startup_seconds']:.2f} s", "", "", "< 2 s")
    for name, value in results["growth"].items():
        table.add_row(f"growth: {name}", f"{value:.0f}/s", "", "", "")


def projection_rows(table: Table, results: dict[str, Any]) -> None:
    """The table's rows for the read side: applied per second, commit→projection."""
    a = results["projection_applying"]
    table.add_row(
        f"events applied/s ({a['projection']})",
        f"{a['worker']['per_second']:.0f}",
        f"{a['baseline']['per_second']:.0f}",
        f"{a['ratio']:.2f}",
        "(a figure)",
    )
    lat = results["projection_latency"]
    table.add_row(
        f"commit→projection @ {lat['rate_per_second']:.0f}/s",
        f"p50 {lat['p50_ms']:.1f} p95 {lat['p95_ms']:.1f} p99 {lat['p99_ms']:.1f} ms",
        "",
        "",
        "(a figure)",
    )


def http_rows(table: Table, h: dict[str, Any]) -> None:
    """The front door (worker column) against publishing straight to RabbitMQ (baseline)."""
    door, direct = h["front_door"], h["direct"]
    for label, key, ratio in (
        ("POST /commands: 202s/s vs confirmed publishes/s", "sent_per_second", "ratio"),
        ("POST /commands: end to end/s vs direct", "end_to_end_per_second", "end_to_end_ratio"),
    ):
        table.add_row(
            label, f"{door[key]:.0f}", f"{direct[key]:.0f}", f"{h[ratio]:.2f}", "(a figure)"
        )
    table.add_row(
        f"front door CPU per 1,000 requests ({h['concurrency']} in flight)",
        f"{door['front_door_cpu_seconds_per_1000']:.2f} s",
        "",
        "",
        "",
    )
