"""The worker processes of one scenario, by name; kills and restarts are counted.

Starting a process waits for its ``ready:`` line, which blocks, so it runs in a
thread: publishers and other faults go on meanwhile on the event loop.
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass, field

from tests.e2e.harness import WorkerProcess
from tests.faults.environment import Environment


@dataclass
class Member:
    role: str | None
    extra_env: dict[str, str]
    process: WorkerProcess


@dataclass
class Cluster:
    env: Environment
    members: dict[str, Member] = field(default_factory=dict)
    history: list[WorkerProcess] = field(default_factory=list)
    kills: int = 0
    restarts: int = 0

    def __post_init__(self) -> None:
        self.env.cleanups.append(self.kill_all)

    def kill_all(self) -> None:
        """SIGKILL whatever still runs (a failed test's leftovers)."""
        for process in self.history:
            if process.process is not None:
                process.kill()

    def _process(self, name: str, role: str | None, extra_env: dict[str, str]) -> WorkerProcess:
        args = ("run",) if role is None else ("run", "--role", role)
        process = WorkerProcess(self.env.worker_env(**extra_env), self.env.log_dir, name, args)
        self.history.append(process)
        return process

    async def start(self, name: str, role: str | None = None, **extra_env: str) -> WorkerProcess:
        """Start worker ``name`` (``role`` None: every role) and wait until it is ready."""
        process = self._process(name, role, extra_env)
        self.members[name] = Member(role, extra_env, process)
        await asyncio.to_thread(process.start, 60)
        return process

    def process(self, name: str) -> WorkerProcess:
        return self.members[name].process

    async def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, no flush, deliveries unacked."""
        await asyncio.to_thread(self.process(name).kill)
        self.kills += 1

    async def restart(self, name: str, extra_env: dict[str, str] | None = None) -> WorkerProcess:
        """Start ``name`` again with its role, and its extra settings unless given anew."""
        member = self.members[name]
        if extra_env is not None:
            member.extra_env = extra_env
        process = self._process(name, member.role, member.extra_env)
        member.process = process
        await asyncio.to_thread(process.start, 60)
        self.restarts += 1
        return process

    async def wait_exit(self, name: str, timeout: float = 60) -> int:
        return await asyncio.to_thread(self.process(name).wait_exit, timeout)

    async def stop(self, timeout: float = 40) -> dict[str, int | None]:
        """SIGTERM every live worker at once; their exit codes (None: had to be killed)."""

        def stop_one(process: WorkerProcess) -> int | None:
            try:
                return process.stop(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                return None

        names = list(self.members)
        codes = await asyncio.gather(
            *(asyncio.to_thread(stop_one, self.members[n].process) for n in names)
        )
        return dict(zip(names, codes, strict=True))

    def log(self) -> str:
        return "\n".join(process.log() for process in self.history)
