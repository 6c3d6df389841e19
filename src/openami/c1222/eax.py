"""EAX′ (EAX prime): the AES-128 authenticated encryption of C12.22 security modes 1 and 2.

Follows c12-protocol-facts.md §4 (from ANSI C12.22-2008 Annex I and Moise, Beroset, Phinney, Burns,
"EAX′ Cipher Mode", 2011), built on the ``cryptography`` package's AES (no hand-written AES):

1. ``L = AES_K(0^128)``, ``D = dbl(L)``, ``Q = dbl(D)`` where ``dbl`` reads the 16-byte block as a
   **little-endian** 128-bit integer, shifts it left by one and, if bit 127 fell out, XORs byte 0 with
   0x87 (this is *not* CMAC's big-endian doubling).
2. ``CMAC′(X, M)``: CBC-MAC whose chaining value starts at ``X``; the last block is XORed with ``D`` if
   it is a full 16 bytes, else padded with ``80 00 ..`` to 16 bytes and XORed with ``Q``.
3. ``N′ = CMAC′(D, N)``; with ``P`` empty the tag is ``N′[12..15]``.
4. Otherwise ``C = P XOR AES-CTR(N′ & ~(0x80 in bytes 12 and 14))`` (128-bit big-endian counter),
   ``C′ = CMAC′(Q, C)`` and the tag is ``(N′ XOR C′)[12..15]``, sent in that byte order.

Mode 2 uses `EaxPrime.seal` / `EaxPrime.open`; mode 1 authenticates ``N ‖ P`` with an empty
plaintext: ``tag(N + P)`` to send, ``verify(N + P, tag)`` to check.

Speed: no per-block Python loop, and few calls into the AES backend per message. CBC-MAC runs through
one long-lived CBC context whose chaining state is tracked, so ``CMAC′(X, M)`` needs no new context:
a short message (≤ 320 bytes padded) is one ``update`` with ``X`` and the context's current chaining
value XORed into its first block and ``D`` or ``Q`` into its last; a long one is three calls — one
leading block ``chain XOR AES_K^-1(X)`` (precomputed for D and Q), all blocks but the last through
``update_into`` a reused buffer (that output is not needed), then the last block XOR ``D`` or ``Q``.
CTR uses one long-lived context re-keyed with ``reset_nonce`` (cryptography ≥ 43; older versions get
a fresh context per message). `seal` and `open` run the usual cases inline (short N, long aligned C).
Because of this state an `EaxPrime` object must not be shared between threads (the sans-IO cores have
none).
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from openami.errors import LocalProtocolError, RemoteProtocolError

__all__ = ["KEY_SIZE", "TAG_SIZE", "BadMacError", "EaxPrime"]

KEY_SIZE = 16
"""AES-128 key length in bytes."""

TAG_SIZE = 4
"""EAX′ tag length in bytes (``T[12..15]``)."""

_BLOCK = 16
_MASK128 = (1 << 128) - 1
# The CTR start value is N′ with the top bit of bytes 12 and 14 cleared; in a big-endian integer those
# are bits 31 and 15.
_CTR_MASK = _MASK128 ^ 0x8000_8000
_TAG_MASK = 0xFFFF_FFFF  # bytes 12..15 of a big-endian block
_PADS = tuple(b"\x80" + bytes(_BLOCK - 1 - rem) for rem in range(_BLOCK))  # CMAC′ padding by len % 16
_SCRATCH_MAX = 0x10000  # largest CBC-MAC output buffer an EaxPrime keeps (bytes): a large C12.22 APDU
_SHORT = 20 * _BLOCK  # padded size up to which one big-integer XOR is cheaper than the leading-block route

Bytes = bytes | bytearray | memoryview


class BadMacError(RemoteProtocolError):
    """The 4-byte EAX′ tag did not verify (wrong key, tampered or truncated message)."""


def _dbl_le(block: bytes) -> bytes:
    """EAX′ doubling: 16 bytes as a little-endian integer, shifted left, 0x87 folded into byte 0."""
    value = int.from_bytes(block, "little") << 1
    if value >> 128:
        value = (value & _MASK128) ^ 0x87
    return value.to_bytes(_BLOCK, "little")


class EaxPrime:
    """EAX′ with one AES-128 key; ``L``, ``D`` and ``Q`` are computed once in the constructor.

    All byte arguments accept bytes-like objects; results are `bytes`. Not thread-safe (see module doc).
    """

    __slots__ = ("_aes", "_cbc", "_cbc_state", "_ctr", "_d", "_d_inv", "_q", "_q_inv", "_scratch")

    def __init__(self, key: Bytes) -> None:
        """``key``: 16 bytes (AES-128). Any other length or type raises `LocalProtocolError`."""
        if not isinstance(key, bytes | bytearray | memoryview):
            raise LocalProtocolError(f"EAX′ key must be bytes, got {type(key).__name__}")
        raw = bytes(key)
        if len(raw) != KEY_SIZE:
            raise LocalProtocolError(f"EAX′ key must be {KEY_SIZE} bytes (AES-128), got {len(raw)}")
        self._aes = algorithms.AES(raw)
        ecb = Cipher(self._aes, modes.ECB()).encryptor()
        d = _dbl_le(ecb.update(bytes(_BLOCK)))
        # D and Q are only ever XORed into blocks, so keep them as big-endian integers of their bytes.
        self._d = int.from_bytes(d, "big")
        q = _dbl_le(d)
        self._q = int.from_bytes(q, "big")
        # AES_K^-1(D) and AES_K^-1(Q): one block that steers the CBC context's chain to D or Q.
        ecb_dec = Cipher(self._aes, modes.ECB()).decryptor()
        self._d_inv = int.from_bytes(ecb_dec.update(d), "big")
        self._q_inv = int.from_bytes(ecb_dec.update(q), "big")
        # Long-lived CBC context; ``_cbc_state`` is its chaining value (the last ciphertext block,
        # initially the zero IV), as a big-endian integer.
        self._cbc: CipherContext = Cipher(self._aes, modes.CBC(bytes(_BLOCK))).encryptor()
        self._cbc_state = 0
        self._scratch = bytearray()  # output of CBC-MAC passes over long messages (discarded)
        ctr = Cipher(self._aes, modes.CTR(bytes(_BLOCK))).encryptor()
        self._ctr: CipherContext | None = ctr if hasattr(ctr, "reset_nonce") else None

    def __repr__(self) -> str:
        return "EaxPrime(key=<hidden>)"

    def _cmac(self, start: int, message: Bytes) -> int:
        """``CMAC′(start, message)`` as a big-endian integer of the 16-byte result."""
        size = len(message)
        rem = size & (_BLOCK - 1)
        data: Bytes
        if rem or not size:
            data, last_key = bytes(message) + _PADS[rem], self._q
            size += _BLOCK - rem
        else:
            data, last_key = message, self._d
        if size <= _SHORT:
            # XOR the first block with ``start`` and with the context's chaining value (which the
            # context is about to XOR in again), and the last block with D or Q: one integer XOR.
            value = int.from_bytes(data, "big") ^ ((start ^ self._cbc_state) << (8 * size - 128)) ^ last_key
            mac = int.from_bytes(self._cbc.update(value.to_bytes(size, "big"))[-_BLOCK:], "big")
        else:
            # Long message, in three calls and no copy of it: one leading block moves the context's
            # chain to ``start`` (AES_K(chain XOR chain XOR AES_K^-1(start)) = start), then all blocks
            # but the last (their output is not wanted: it goes to a reused buffer instead of new
            # bytes), then the last block XOR D or Q, whose output is the MAC.
            inverse = self._q_inv if start == self._q else self._inverse(start)
            fix = (self._cbc_state ^ inverse).to_bytes(_BLOCK, "big")
            scratch = self._scratch
            if len(scratch) < size:  # update_into wants the input's size + 15 bytes of room
                scratch = bytearray(size + _BLOCK)
                if size <= _SCRATCH_MAX:  # kept for the next messages
                    self._scratch = scratch
            self._cbc.update_into(fix, scratch)
            self._cbc.update_into(memoryview(data)[:-_BLOCK], scratch)
            tail = (int.from_bytes(data[-_BLOCK:], "big") ^ last_key).to_bytes(_BLOCK, "big")
            mac = int.from_bytes(self._cbc.update(tail), "big")
        self._cbc_state = mac
        return mac

    def _inverse(self, start: int) -> int:
        """``AES_K^-1(start)`` as an integer; D and Q come precomputed."""
        if start == self._d:
            return self._d_inv
        if start == self._q:
            return self._q_inv
        block = Cipher(self._aes, modes.ECB()).decryptor().update(start.to_bytes(_BLOCK, "big"))
        return int.from_bytes(block, "big")

    def _ctr_xor(self, n_prime: int, data: Bytes) -> bytes:
        """``data`` XOR the AES-CTR keystream started at the masked ``N′``."""
        counter = (n_prime & _CTR_MASK).to_bytes(_BLOCK, "big")
        if self._ctr is None:  # cryptography < 43 has no reset_nonce
            return Cipher(self._aes, modes.CTR(counter)).encryptor().update(data)
        self._ctr.reset_nonce(counter)
        return self._ctr.update(data)

    # `seal` and `open` run `_cmac` inline for their usual cases — a short N (the header of a C12.22
    # message: tens of bytes) and a long, block-aligned C (bulk data) — and call it for the others: a
    # Python call and the general branches cost about as much as AES on a few hundred bytes. For the
    # same reason the constants are written out there: 16 = _BLOCK, 320 = _SHORT, 4 = TAG_SIZE and
    # 0xFFFFFFFF = _TAG_MASK.

    def seal(self, cleartext: Bytes, plaintext: Bytes) -> tuple[bytes, bytes]:
        """Encrypt ``plaintext`` under header ``cleartext`` (N); returns ``(ciphertext, tag)``.

        The ciphertext has the plaintext's length; the tag is 4 bytes ``T[12..15]``.
        """
        cbc = self._cbc
        size = len(cleartext)
        if 0 < size < 320:  # N′ = CMAC′(D, N), short case of `_cmac`
            rem = size & 15
            if rem:
                size += 16 - rem
                value = int.from_bytes(bytes(cleartext) + _PADS[rem], "big") ^ self._q
            else:
                value = int.from_bytes(cleartext, "big") ^ self._d
            value ^= (self._d ^ self._cbc_state) << (8 * size - 128)
            n_prime = int.from_bytes(cbc.update(value.to_bytes(size, "big"))[-16:], "big")
        else:
            n_prime = self._cmac(self._d, cleartext)
        size = len(plaintext)
        if not size:
            self._cbc_state = n_prime
            return b"", (n_prime & 0xFFFFFFFF).to_bytes(4, "big")
        ctr = self._ctr
        if ctr is None:
            ciphertext = self._ctr_xor(n_prime, plaintext)
        else:  # `_ctr_xor` inline
            ctr.reset_nonce((n_prime & _CTR_MASK).to_bytes(16, "big"))
            ciphertext = ctr.update(plaintext)
        scratch = self._scratch
        if size > 320 and not size & 15 and len(scratch) >= size:  # C′ = CMAC′(Q, C), long case of `_cmac`
            cbc.update_into((n_prime ^ self._q_inv).to_bytes(16, "big"), scratch)  # the chain is N′
            cbc.update_into(memoryview(ciphertext)[:-16], scratch)
            last = (int.from_bytes(ciphertext[-16:], "big") ^ self._d).to_bytes(16, "big")
            c_prime = self._cbc_state = int.from_bytes(cbc.update(last), "big")
        else:
            self._cbc_state = n_prime
            c_prime = self._cmac(self._q, ciphertext)
        return ciphertext, ((n_prime ^ c_prime) & 0xFFFFFFFF).to_bytes(4, "big")

    def open(self, cleartext: Bytes, ciphertext: Bytes, tag: Bytes) -> bytes:
        """Check ``tag`` over ``cleartext`` and ``ciphertext``, then decrypt; returns the plaintext.

        Raises `BadMacError` if the tag is not 4 bytes or does not match (compared in constant time);
        nothing is decrypted in that case.
        """
        if len(tag) != TAG_SIZE:
            raise BadMacError(f"EAX′ tag must be {TAG_SIZE} bytes, got {len(tag)}")
        cbc = self._cbc
        size = len(cleartext)
        if 0 < size < 320:  # N′ = CMAC′(D, N), short case of `_cmac`
            rem = size & 15
            if rem:
                size += 16 - rem
                value = int.from_bytes(bytes(cleartext) + _PADS[rem], "big") ^ self._q
            else:
                value = int.from_bytes(cleartext, "big") ^ self._d
            value ^= (self._d ^ self._cbc_state) << (8 * size - 128)
            n_prime = int.from_bytes(cbc.update(value.to_bytes(size, "big"))[-16:], "big")
        else:
            n_prime = self._cmac(self._d, cleartext)
        size = len(ciphertext)
        scratch = self._scratch
        if size > 320 and not size & 15 and len(scratch) >= size:  # C′ = CMAC′(Q, C), long case of `_cmac`
            cbc.update_into((n_prime ^ self._q_inv).to_bytes(16, "big"), scratch)  # the chain is N′
            cbc.update_into(memoryview(ciphertext)[:-16], scratch)
            last = (int.from_bytes(ciphertext[-16:], "big") ^ self._d).to_bytes(16, "big")
            self._cbc_state = int.from_bytes(cbc.update(last), "big")
            expected = n_prime ^ self._cbc_state
        else:
            self._cbc_state = n_prime
            expected = n_prime ^ self._cmac(self._q, ciphertext) if size else n_prime
        if not hmac.compare_digest((expected & 0xFFFFFFFF).to_bytes(4, "big"), bytes(tag)):
            raise BadMacError("EAX′ tag mismatch")
        if not size:
            return b""
        ctr = self._ctr
        if ctr is None:
            return self._ctr_xor(n_prime, ciphertext)
        ctr.reset_nonce((n_prime & _CTR_MASK).to_bytes(16, "big"))  # `_ctr_xor` inline
        return ctr.update(ciphertext)

    def tag(self, cleartext: Bytes, plaintext: Bytes = b"") -> bytes:
        """The 4-byte tag alone: ``seal(cleartext, plaintext)[1]``; mode 1 sends ``tag(N + P)``."""
        return self.seal(cleartext, plaintext)[1]

    def verify(self, cleartext: Bytes, tag: Bytes) -> None:
        """Mode 1 check: raise `BadMacError` unless ``tag == tag(cleartext)`` (constant-time)."""
        self.open(cleartext, b"", tag)
