"""What a console page says when something fails: a server that is down or slow is a 503
with a notice naming it (never its password), an operator's refusal a 409."""

from __future__ import annotations

import pytest
from aiormq.exceptions import ChannelInvalidStateError

from tests.unit.console.rendering import CONSOLE, SETTINGS
from worker.cli.common import CliError
from worker.ops.dlq.session import ServerUnavailable, connected
from worker.web.console.routing import _failure

#: Nothing listens there (the discard port).
DOWN = SETTINGS.model_copy(update={"amqp_url": "amqp://ops:hunter2-secret@127.0.0.1:9/prod"})


async def test_a_broker_that_cannot_be_reached_is_a_503_naming_it_without_its_password() -> None:
    with pytest.raises(ServerUnavailable) as down:
        async with connected(DOWN):
            pass
    status, message = _failure(CONSOLE, down.value)
    assert status == 503
    assert "cannot reach RabbitMQ at amqp://ops:***@127.0.0.1:9/prod" in message
    assert "try again once it is back" in message
    assert "hunter2-secret" not in message


def test_a_refusal_of_the_operators_case_stays_a_409() -> None:
    status, message = _failure(CONSOLE, CliError("letter x names no command; purge it"))
    assert (status, message) == (409, "letter x names no command; purge it")


def test_a_server_that_does_not_answer_in_time_is_a_503_that_blames_no_database() -> None:
    status, message = _failure(CONSOLE, TimeoutError())
    assert status == 503
    assert "did not answer in time" in message and "database" not in message


def test_a_channel_lost_mid_way_is_a_503_naming_the_broker() -> None:
    status, message = _failure(CONSOLE, ChannelInvalidStateError("closed"))
    assert status == 503
    assert "RabbitMQ at amqp://ops:***@rabbit:5672/prod" in message
