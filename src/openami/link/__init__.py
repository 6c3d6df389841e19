"""HAN data link (sans-IO): frames with short addresses, sequence numbers and CRC-16/X-25 (`frame`), and a
stop-and-wait ARQ endpoint with retries, ACK/NAK, duplicate suppression and segmentation (`arq`).

The simulated media that carry these frames are in `openami.transport.han`.
"""

from __future__ import annotations

from openami.link.arq import (
    ArqConfig,
    ArqEvent,
    ArqStats,
    DeliveryFailed,
    DuplicateDropped,
    FrameRejected,
    HanEndpoint,
    MessageDelivered,
    MessageReceived,
    ReassemblyError,
    Transmit,
)
from openami.link.frame import (
    FRAME_OVERHEAD,
    MAX_ADDRESS,
    MAX_PAYLOAD,
    MIN_ADDRESS,
    Frame,
    FrameKind,
    Header,
    decode_frame,
    peek_header,
)

__all__ = [
    "FRAME_OVERHEAD",
    "MAX_ADDRESS",
    "MAX_PAYLOAD",
    "MIN_ADDRESS",
    "ArqConfig",
    "ArqEvent",
    "ArqStats",
    "DeliveryFailed",
    "DuplicateDropped",
    "Frame",
    "FrameKind",
    "FrameRejected",
    "HanEndpoint",
    "Header",
    "MessageDelivered",
    "MessageReceived",
    "ReassemblyError",
    "Transmit",
    "decode_frame",
    "peek_header",
]
