"""A delivery whose routing key is not UTF-8 is still a delivery.

Patched: ``pamqp.frame._unmarshal_method_frame`` (pamqp 4.0.1). RabbitMQ routes a
message published with a routing key that is not UTF-8 (through a ``CC`` header,
say) and delivers it; pamqp then fails on the ``basic.deliver`` frame and aiormq
drops the connection. For the methods that carry a message (deliver, get-ok,
return), a short string that is not UTF-8 is read with U+FFFD in place of the
bytes that are not: the routing key is only an address, and the message is then
settled like any other (an unknown command, most often).
"""

from __future__ import annotations

from pamqp import base, commands, decode, exceptions, frame

_original = frame._unmarshal_method_frame
CARRYING = (commands.Basic.Deliver, commands.Basic.GetOk, commands.Basic.Return)


def install() -> None:
    frame._unmarshal_method_frame = _tolerant_method_frame


def _tolerant_method_frame(frame_data: bytes) -> base.Frame:
    try:
        method: base.Frame = _original(frame_data)
    except exceptions.UnmarshalingException:
        _, index = decode.long_int(frame_data[0:4])
        kind = commands.INDEX_MAPPING.get(index)
        if kind not in CARRYING:
            raise
        method = kind()
        _unmarshal_replacing(method, frame_data[4:])
    return method


def _unmarshal_replacing(method: base.Frame, data: bytes) -> None:
    """pamqp's ``Frame.unmarshal``, with short strings decoded with ``replace``."""
    offset, in_bits = 0, False
    for argument in method.__slots__:
        kind = method.amqp_type(argument)
        if in_bits and (kind != "bit" or offset == 8):
            data, offset, in_bits = data[1:], 0, False
        value: object
        if kind == "shortstr":
            size = data[0]
            if 1 + size > len(data):
                raise exceptions.UnmarshalingException(method, "a short string runs past the frame")
            consumed, value = 1 + size, data[1 : 1 + size].decode("utf-8", "replace")
        else:
            consumed, value = decode.by_type(data, kind, offset)
        if kind == "bit":
            offset, in_bits, consumed = offset + 1, True, 0
        setattr(method, argument, value)
        data = data[consumed:]
