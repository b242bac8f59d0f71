"""What to tell the operator when the broker refuses a declaration (PRECONDITION_FAILED)."""

from __future__ import annotations

import re

from aiormq.exceptions import ChannelPreconditionFailed

#: RabbitMQ names what it refused: "inequivalent arg 'x' for queue 'name' in vhost ...".
_REFUSED = re.compile(r"for (queue|exchange) '(.*?)' in vhost")


class TopologyMismatch(Exception):
    """A queue or exchange exists with other arguments than this version declares."""


def mismatch(error: ChannelPreconditionFailed) -> TopologyMismatch:
    """The broker's words, and what to do about the queue or exchange they name."""
    text = str(error.args[-1] if error.args else error)
    return TopologyMismatch(f"{text}; {upgrade_hint(text)}")


def upgrade_hint(refusal: str) -> str:
    found = _REFUSED.search(refusal)
    if found is None:
        return "see 'Upgrading' in the README"
    kind, name = found.groups()
    if kind == "queue":
        return (
            f"the queue {name!r} was declared by another version with other arguments; "
            f"drain it, delete it (rabbitmqctl delete_queue {name}) and start the worker "
            "again, or see 'Upgrading' in the README"
        )
    return (
        f"the exchange {name!r} was declared by another version with other arguments; "
        f"delete it (rabbitmqctl delete_exchange {name}: its queues and their messages "
        "stay, its bindings go) and start the worker again, which declares and binds it "
        "anew; or see 'Upgrading' in the README"
    )
