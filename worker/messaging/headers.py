"""The AMQP headers the worker owns: retry bookkeeping and the dead-letter record.

Clients never need to set any of these; the consumer writes them when it
schedules a delayed retry or dead-letters a message, and the ``dlq`` commands
read them (and strip them again when they send a message back).
"""

from __future__ import annotations

#: Handler attempts so far, across in-process retries and delayed rounds.
ATTEMPTS = "attempts"
#: Delayed retry rounds already spent (0 or absent: none yet).
RETRY_ROUND = "retry-round"
#: The HMAC that proves a worker wrote the two counts above (see ``retry_seal``).
RETRY_SEAL = "retry-seal"
SEALED = (ATTEMPTS, RETRY_ROUND, RETRY_SEAL)
#: On a dead letter of a policy's command that arrived under the worker's seal: the seal
#: over it afresh, so that ``dlq resend`` may seal it again (and only it, unedited).
POLICY_SEAL = "policy-seal"
#: The command name, so a message coming back from a retry queue (whose routing
#: key is then the queue's name) is still recognised.
COMMAND = "command"
#: Where the worker also sends the outcome of this message (and a ``retrying``
#: notice when it schedules a delayed retry): the ``dlq retry`` command's queue.
RETRY_REPLY_TO = "retry-reply-to"
#: The DLQ copy this message was sent back from, kept for the audit trail.
RETRIED_FROM = "retried-from-dlq"

# The dead-letter record, on every copy the worker puts in a ``<queue>.dlq``.
DLQ_ID = "dlq-id"
FAILURE_CLASS = "failure-class"
ERROR_CODE = "error-code"
ERROR_MESSAGE = "error-message"
EXCEPTION_TYPE = "exception-type"
STACK = "stack"
ORIGINAL_QUEUE = "original-queue"
ORIGINAL_EXCHANGE = "original-exchange"
ORIGINAL_ROUTING_KEY = "original-routing-key"
FAILED_AT = "failed-at"
#: The raw content-header bytes of a message whose properties could not be decoded.
UNDECODABLE_PROPERTIES = "undecodable-properties"
#: What was cut from a copy so that it fits in one frame (see ``copies``).
TRIMMED = "trimmed"
#: Properties a copy cannot carry as properties, kept as headers instead: an
#: expiration would expire the dead letter, and the broker refuses a ``user_id``
#: other than the publishing connection's user.
ORIGINAL_EXPIRATION = "original-expiration"
ORIGINAL_USER_ID = "original-user-id"
#: RabbitMQ routes a message to every queue its ``CC``/``BCC`` headers name, on any
#: exchange: a copy carrying them would land in those queues too (a dead letter back
#: in the command queue, again and again). Copies keep them under these names.
ROUTING_HEADERS = {"CC": "original-cc", "BCC": "original-bcc"}

DEAD_LETTER_RECORD = (
    DLQ_ID,
    FAILURE_CLASS,
    ERROR_CODE,
    ERROR_MESSAGE,
    EXCEPTION_TYPE,
    STACK,
    ORIGINAL_QUEUE,
    ORIGINAL_EXCHANGE,
    ORIGINAL_ROUTING_KEY,
    FAILED_AT,
    UNDECODABLE_PROPERTIES,
    TRIMMED,
)
#: What the broker writes when it dead-letters or redelivers: stale on a new copy.
BROKER_HEADERS = (
    "x-death",
    "x-delivery-count",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
)
#: Where the message was first published: kept across retries, so a message that
#: fails again still says how its sender addressed it.
ORIGIN = (ORIGINAL_EXCHANGE, ORIGINAL_ROUTING_KEY)
#: What a message sent back to its queue must not carry: a fresh retry budget
#: and no stale failure record (the broker's own history goes too).
STRIPPED_ON_RETRY = (
    *(name for name in DEAD_LETTER_RECORD if name not in ORIGIN),
    *SEALED,
    POLICY_SEAL,
    RETRY_REPLY_TO,
    *BROKER_HEADERS,
    *ROUTING_HEADERS,
)
