"""Adds administrators ``{name: [role, password]}`` read as JSON from standard input, in one
process (``admins add`` costs one each)."""

from __future__ import annotations

import asyncio
import json
import sys

from worker.bootstrap import contexts
from worker.config import Settings
from worker.persistence import database
from worker.web.admins import add_administrator


async def main() -> None:
    settings = Settings()
    await database.connect(settings, contexts(settings))
    try:
        for name, (role, password) in json.load(sys.stdin).items():
            await add_administrator(name, role, password)
    finally:
        await database.close()


if __name__ == "__main__":
    asyncio.run(main())
