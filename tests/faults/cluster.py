"""The worker processes of one scenario, by name; kills and restarts are counted.

Starting a process waits for its ``ready:`` line, which blocks, so it runs in a
thread: publishers and other faults go on meanwhile on the event loop. Each
worker has a lock: two faults never kill, start or pause the same worker at once,
so a kill never cuts a start short, and no replaced process is left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from tests.e2e.harness import WorkerProcess
from tests.faults.environment import Environment

#: Test hooks that make a worker exit on purpose; they serve one process only.
CRASH_HOOKS = ("TEST_CRASH_AFTER_COMMIT", "TEST_CRASH_AFTER_PUBLISH")
#: The exit code of a crash hook.
HOOK_EXIT = 75

Callback = Callable[[], Awaitable[object]]


def alive(process: WorkerProcess | None) -> bool:
    return process is not None and process.process is not None and process.process.poll() is None


@dataclass
class Member:
    name: str
    role: str | None
    #: Its own settings (crash hooks never among them: a restart does not inherit one).
    extra_env: dict[str, str]
    process: WorkerProcess | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


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
                process.process.send_signal(signal.SIGCONT)  # if a fault left it paused
                process.kill()

    async def start(self, name: str, role: str | None = None, **extra_env: str) -> WorkerProcess:
        """Start worker ``name`` (``role`` None: every role) and wait until it is ready."""
        own = {k: v for k, v in extra_env.items() if k not in CRASH_HOOKS}
        member = self.members.setdefault(name, Member(name, role, own))
        async with member.lock:
            return await self._launch(member, extra_env)

    async def restart(self, name: str, extra_env: dict[str, str] | None = None) -> WorkerProcess:
        """Start ``name`` again (killing it first if it still runs) with its role, and its
        settings unless given anew; a crash hook given serves this one process only."""
        member = self.members[name]
        async with member.lock:
            if extra_env is not None:
                member.extra_env = {k: v for k, v in extra_env.items() if k not in CRASH_HOOKS}
            process = await self._launch(member, extra_env or member.extra_env)
            self.restarts += 1
            return process

    async def bounce(self, name: str) -> None:
        """SIGKILL ``name`` and start it again, no other fault in between."""
        member = self.members[name]
        async with member.lock:
            await self._kill(member)
            await self._launch(member, member.extra_env)
            self.restarts += 1

    async def crash_once(
        self, name: str, hook: dict[str, str], timeout: float, started: Callback | None = None
    ) -> int | None:
        """Start ``name`` with a crash ``hook``, wait (after ``started``) for its exit, then
        start it plain; no other fault in between. Its exit code (None: it did not exit)."""
        member = self.members[name]
        async with member.lock:
            process = await self._launch(member, {**member.extra_env, **hook})
            code: int | None = None
            try:
                if started is not None:
                    await started()
                code = await asyncio.to_thread(process.wait_exit, timeout)
            except subprocess.TimeoutExpired:
                pass
            finally:  # whatever happened, it runs plain again
                await self._launch(member, member.extra_env)
                self.restarts += 2
            return code

    async def _kill(self, member: Member) -> None:
        """SIGKILL: no shutdown, no flush, deliveries unacked."""
        if alive(member.process):
            assert member.process is not None
            await asyncio.to_thread(member.process.kill)
            self.kills += 1

    async def _launch(self, member: Member, extra_env: dict[str, str]) -> WorkerProcess:
        await self._kill(member)  # never two of one name
        args = ("run",) if member.role is None else ("run", "--role", member.role)
        env = self.env.worker_env(**extra_env)
        process = WorkerProcess(env, self.env.log_dir, member.name, args)
        self.history.append(process)
        member.process = process
        try:
            await asyncio.to_thread(process.start, 60)
        except AssertionError:
            hooked = any(hook in extra_env for hook in CRASH_HOOKS)
            if not (hooked and process.process and process.process.poll() == HOOK_EXIT):
                raise
            # Its hook fired before it said ready: what the caller waits for anyway.
        return process

    def process(self, name: str) -> WorkerProcess:
        process = self.members[name].process
        assert process is not None, f"{name} never started"
        return process

    async def wait_exit(self, name: str, timeout: float = 60) -> int:
        return await asyncio.to_thread(self.process(name).wait_exit, timeout)

    @contextlib.asynccontextmanager
    async def paused(self, names: list[str]) -> AsyncIterator[None]:
        """SIGSTOP ``names`` (no other fault touches them meanwhile), SIGCONT afterwards."""
        async with contextlib.AsyncExitStack() as held:
            for name in sorted(names):
                await held.enter_async_context(self.members[name].lock)
            stopped = [self.process(n) for n in names if alive(self.members[n].process)]
            for process in stopped:
                assert process.process is not None
                os.kill(process.process.pid, signal.SIGSTOP)
            try:
                yield
            finally:
                for process in stopped:
                    assert process.process is not None
                    os.kill(process.process.pid, signal.SIGCONT)

    async def stop(self, timeout: float = 40) -> dict[str, int | None]:
        """SIGTERM every live worker at once; their exit codes (None: had to be killed)."""

        def stop_one(process: WorkerProcess) -> int | None:
            try:
                return process.stop(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                return None

        names = list(self.members)
        codes = await asyncio.gather(*(asyncio.to_thread(stop_one, self.process(n)) for n in names))
        return dict(zip(names, codes, strict=True))

    def log(self) -> str:
        return "\n".join(process.log() for process in self.history)
