"""Clients of a meter: `MeterClient` reads and writes tables and runs procedures over C12.22 (TCP/UDP).

See `openami.client.reader` for the behaviour, the decoding of partial reads and the errors.
"""

from __future__ import annotations

from openami.client.reader import (
    DEFAULT_CALLED,
    DEFAULT_CALLING,
    BadAnswer,
    ClientError,
    ConnectError,
    MacError,
    MeterClient,
    ProcedureTimeout,
    ResponseError,
    ResponseTimeout,
    TableRead,
    decode_read,
    element_at,
)

__all__ = [
    "DEFAULT_CALLED",
    "DEFAULT_CALLING",
    "BadAnswer",
    "ClientError",
    "ConnectError",
    "MacError",
    "MeterClient",
    "ProcedureTimeout",
    "ResponseError",
    "ResponseTimeout",
    "TableRead",
    "decode_read",
    "element_at",
]
