"""Security modes, key store, IV source and replay guard."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1222.eax import EaxPrime
from openami.c1222.security import (
    IV_SIZE,
    MAX_IV,
    IvSource,
    KeyStore,
    Refusal,
    ReplayError,
    ReplayGuard,
    SecurityMode,
    constant_time_equal,
)
from openami.errors import LocalProtocolError, RemoteProtocolError

KEY_2 = bytes.fromhex("01020304050607080102030405060708")  # key id 2 of the standard's Example 8
# V6 (c12-protocol-facts.md §4): Example 8 request, N / P / C / MAC.
V6_N = bytes.fromhex(
    "a20d060b607c86f7540116007bc175a803020103ac0fa20da00ba109800102810448f3d061be2a2828812688a6"
    "0c060a607c86f7540116007b040248f3d061"
)
V6_P = bytes.fromhex("175150415353574f52442020202020202020202020200002083f00010000100010")
V6_MAC = bytes.fromhex("99c5d4e8")
EXAMPLE8_IV = bytes.fromhex("48f3d061")  # 1223938145 s since 1970 = 2008-10-13 22:49:05 UTC

# --- SecurityMode -------------------------------------------------------------------------------------


def test_security_mode_values() -> None:
    assert [int(m) for m in SecurityMode] == [0, 1, 2]
    assert int(SecurityMode.CLEARTEXT) == 0
    assert int(SecurityMode.AUTHENTICATED) == 1
    assert int(SecurityMode.ENCRYPTED) == 2


@pytest.mark.parametrize(
    ("control", "mode"),
    [
        (0x80, SecurityMode.CLEARTEXT),
        (0x84, SecurityMode.AUTHENTICATED),
        (0x88, SecurityMode.ENCRYPTED),
        (0x9A, SecurityMode.ENCRYPTED),
        (0x01, SecurityMode.CLEARTEXT),
    ],
)
def test_security_mode_from_control(control: int, mode: SecurityMode) -> None:
    assert SecurityMode.from_control(control) is mode


@given(st.integers(0, 255))
def test_security_mode_from_any_control_byte(control: int) -> None:
    if control & 0x0C == 0x0C:
        with pytest.raises(RemoteProtocolError):
            SecurityMode.from_control(control)
    else:
        assert SecurityMode.from_control(control) == (control >> 2) & 3


def test_constant_time_equal() -> None:
    assert constant_time_equal(b"PASSWORD", bytearray(b"PASSWORD"))
    assert not constant_time_equal(b"PASSWORD", b"PASSWORd")
    assert not constant_time_equal(b"PASSWORD", b"PASSWORD ")
    assert constant_time_equal(b"", memoryview(b""))


# --- KeyStore -----------------------------------------------------------------------------------------


def test_key_store_lookup_and_cache() -> None:
    store = KeyStore({2: KEY_2})
    assert 2 in store and 3 not in store and len(store) == 1
    cipher = store.cipher(2)
    assert store.cipher(2) is cipher
    assert store.get(2) is cipher
    assert cipher.open(V6_N, EaxPrime(KEY_2).seal(V6_N, V6_P)[0], V6_MAC) == V6_P
    assert store.get(3) is None
    with pytest.raises(LocalProtocolError):
        store.cipher(3)
    assert store.key_ids() == (2,)


def test_key_store_replace_and_remove() -> None:
    store = KeyStore()
    store.set(7, KEY_2)
    old = store.cipher(7)
    store.set(7, bytes(16))
    assert store.cipher(7) is not old
    assert store.cipher(7).tag(V6_N) != old.tag(V6_N)
    store.remove(7)
    assert 7 not in store and len(store) == 0
    with pytest.raises(LocalProtocolError):
        store.remove(7)


@pytest.mark.parametrize("key_id", [-1, 256, 1000, True, "2", 2.0])
def test_key_store_bad_key_id(key_id: object) -> None:
    with pytest.raises(LocalProtocolError):
        KeyStore().set(key_id, KEY_2)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, 15, 17, 32])
def test_key_store_bad_key(size: int) -> None:
    store = KeyStore()
    with pytest.raises(LocalProtocolError):
        store.set(1, bytes(size))
    assert 1 not in store


def test_key_store_all_ids() -> None:
    store = KeyStore({i: bytes([i]) * 16 for i in range(256)})
    assert store.key_ids() == tuple(range(256))
    assert len({store.cipher(i).tag(b"N") for i in range(256)}) > 250  # distinct keys, distinct tags


def test_keys_not_in_repr() -> None:
    secret = bytes(range(0xA0, 0xB0))
    store = KeyStore({2: KEY_2, 9: secret})
    for text in (repr(store), str(store), repr(store.cipher(2)), repr(store.cipher(9))):
        for key in (KEY_2, secret):
            assert key.hex() not in text.lower()
            assert repr(key) not in text
            assert str(list(key)) not in text
    assert "2" in repr(store) and "9" in repr(store)


# --- IvSource -----------------------------------------------------------------------------------------


def test_iv_is_the_clock_when_it_moves() -> None:
    source = IvSource()
    assert source.last is None
    assert source.next_iv(1223938145.9) == EXAMPLE8_IV
    assert source.last == 0x48F3D061
    assert source.next_iv(1223938200.0) == (1223938200).to_bytes(4, "big")


def test_iv_same_second_and_backwards_clock() -> None:
    source = IvSource()
    first = int.from_bytes(source.next_iv(1000.5), "big")
    same = [int.from_bytes(source.next_iv(1000.7), "big") for _ in range(5)]
    back = [int.from_bytes(source.next_iv(900.0), "big") for _ in range(5)]
    assert [first, *same, *back] == list(range(1000, 1011))
    assert int.from_bytes(source.next_iv(2000.0), "big") == 2000  # back on the clock once it is ahead


def test_iv_many_calls_never_repeat() -> None:
    source = IvSource()
    seen = set()
    for i in range(20_000):
        now = 1_700_000_000.0 + (i // 7) - (i % 13) * 0.5  # runs, repeats and steps back
        iv = source.next_iv(now)
        assert len(iv) == IV_SIZE
        seen.add(iv)
    assert len(seen) == 20_000


@settings(max_examples=200)
@given(st.lists(st.floats(min_value=-1e3, max_value=4e9, allow_nan=False), min_size=1, max_size=200))
def test_iv_strictly_increasing(times: list[float]) -> None:
    source = IvSource()
    values = [int.from_bytes(source.next_iv(t), "big") for t in times]
    assert all(a < b for a, b in itertools.pairwise(values))
    assert all(v >= max(0, int(t)) for v, t in zip(values, times, strict=True))
    assert source.last == values[-1]


def test_iv_restore_and_exhaustion() -> None:
    source = IvSource(last=MAX_IV - 1)
    assert source.next_iv(0.0) == b"\xff\xff\xff\xff"
    with pytest.raises(LocalProtocolError):
        source.next_iv(0.0)
    assert source.last == MAX_IV
    with pytest.raises(LocalProtocolError):
        IvSource().next_iv(float(MAX_IV + 1))
    assert IvSource().next_iv(-5.0) == bytes(4)


@pytest.mark.parametrize("last", [-1, MAX_IV + 1, 1.5, True, "1"])
def test_iv_bad_last(last: object) -> None:
    with pytest.raises(LocalProtocolError):
        IvSource(last=last)  # type: ignore[arg-type]


@pytest.mark.parametrize("now", [float("nan"), float("inf"), float("-inf")])
def test_iv_bad_now(now: float) -> None:
    source = IvSource()
    with pytest.raises(LocalProtocolError):
        source.next_iv(now)
    assert source.last is None


# --- ReplayGuard --------------------------------------------------------------------------------------

T0 = 1_700_000_000.0
PEER = ".123.4"


def iv_at(seconds: float) -> bytes:
    return int(seconds).to_bytes(4, "big")


def refused(guard: ReplayGuard, reason: Refusal, peer: object, now: float, **kw: object) -> None:
    before = guard.refused[reason]
    with pytest.raises(ReplayError) as info:
        guard.admit(peer, now, **kw)  # type: ignore[arg-type]
    assert info.value.reason is reason
    assert isinstance(info.value, RemoteProtocolError)
    assert guard.refused[reason] == before + 1


def test_replayed_iv_refused_and_counted() -> None:
    guard = ReplayGuard(window=300)
    guard.admit(PEER, T0, key_id=2, iv=iv_at(T0), invocation_id=3)
    refused(guard, Refusal.REPLAYED_IV, PEER, T0 + 1, key_id=2, iv=iv_at(T0), invocation_id=4)
    refused(guard, Refusal.REPLAYED_IV, PEER, T0 + 299, key_id=2, iv=iv_at(T0))
    assert guard.refused == {Refusal.REPLAYED_IV: 2}
    # the same IV under another key, or from another peer, is a different message
    guard.admit(PEER, T0 + 2, key_id=3, iv=iv_at(T0))
    guard.admit(".123.8437", T0 + 2, key_id=2, iv=iv_at(T0), invocation_id=3)
    # a refused message left nothing behind: invocation id 4 is still free
    guard.admit(PEER, T0 + 3, key_id=2, iv=iv_at(T0 + 3), invocation_id=4)


def test_replayed_invocation_id_refused_within_window_only() -> None:
    guard = ReplayGuard(window=60)
    guard.admit(PEER, T0, invocation_id=7)
    refused(guard, Refusal.REPLAYED_INVOCATION_ID, PEER, T0 + 59, invocation_id=7)
    refused(guard, Refusal.REPLAYED_INVOCATION_ID, PEER, T0 + 1, key_id=2, iv=iv_at(T0 + 1), invocation_id=7)
    guard.admit(PEER, T0 + 60, invocation_id=7)  # ids wrap: remembered for one window
    guard.admit("other", T0 + 1, invocation_id=7)
    assert guard.refused == {Refusal.REPLAYED_INVOCATION_ID: 2}


def test_stale_time_iv_refused() -> None:
    guard = ReplayGuard(window=300)
    refused(guard, Refusal.STALE, PEER, T0, key_id=2, iv=iv_at(T0 - 301))
    guard.admit(PEER, T0, key_id=2, iv=iv_at(T0 - 300))
    # the replay after the window is refused as stale, with nothing remembered for it any more
    refused(guard, Refusal.STALE, PEER, T0 + 1000, key_id=2, iv=iv_at(T0 - 300))
    assert guard.remembered(PEER) == 0
    assert guard.refused == {Refusal.STALE: 2}


def test_stale_example8_iv_refused_today() -> None:
    # The Example 8 capture replayed now (2023-11-14 in T0) is stale; at its own time it is fine.
    refused(ReplayGuard(), Refusal.STALE, PEER, T0, key_id=2, iv=EXAMPLE8_IV)
    ReplayGuard().admit(PEER, 1223938150.0, key_id=2, iv=EXAMPLE8_IV)


def test_future_time_iv_remembered_until_its_own_time_passes() -> None:
    guard = ReplayGuard(window=100)
    guard.admit(PEER, T0, key_id=1, iv=iv_at(T0 + 500))  # sender's IVs ran ahead of our clock
    refused(guard, Refusal.REPLAYED_IV, PEER, T0 + 550, key_id=1, iv=iv_at(T0 + 500))
    refused(guard, Refusal.STALE, PEER, T0 + 700, key_id=1, iv=iv_at(T0 + 500))


def test_counter_ivs_floor() -> None:
    guard = ReplayGuard(window=10, iv_is_time=False)
    guard.admit(PEER, T0, key_id=0, iv=iv_at(5))
    guard.admit(PEER, T0, key_id=0, iv=iv_at(3))  # out of order within the window is fine
    refused(guard, Refusal.REPLAYED_IV, PEER, T0 + 5, key_id=0, iv=iv_at(5))
    guard.admit(PEER, T0 + 20, key_id=0, iv=iv_at(9))  # 3 and 5 are forgotten now: floor = 5
    assert guard.remembered(PEER) == 1
    refused(guard, Refusal.STALE, PEER, T0 + 21, key_id=0, iv=iv_at(5))
    refused(guard, Refusal.STALE, PEER, T0 + 21, key_id=0, iv=iv_at(4))
    guard.admit(PEER, T0 + 21, key_id=0, iv=iv_at(6))
    guard.admit(PEER, T0 + 21, key_id=1, iv=iv_at(1))  # floors are per key id
    # counters are not times: a small IV is not stale by the clock
    guard.admit("fresh", T0 + 21, key_id=0, iv=iv_at(0))


def test_ids_memory_bounded_with_floor() -> None:
    guard = ReplayGuard(window=1e6, max_ids=8)
    for i in range(100):
        guard.admit(PEER, T0 + i, key_id=2, iv=iv_at(T0 + i), invocation_id=i)
        assert guard.remembered(PEER) <= 16
    # IVs pushed out of memory are still refused, through the floor
    for i in range(100):
        with pytest.raises(ReplayError):
            guard.admit(PEER, T0 + 100, key_id=2, iv=iv_at(T0 + i))
    assert guard.refused[Refusal.STALE] == 92
    assert guard.refused[Refusal.REPLAYED_IV] == 8


def test_peers_bounded_least_recent_evicted() -> None:
    guard = ReplayGuard(window=300, max_peers=4)
    for p in range(4):
        guard.admit(p, T0, invocation_id=1)
    guard.admit(0, T0 + 1, invocation_id=2)  # peer 0 is now the most recent
    guard.admit(99, T0 + 2, invocation_id=1)
    assert len(guard) == 4 and guard.evicted_peers == 1
    assert guard.remembered(1) == 0  # the least recent went
    assert guard.remembered(0) == 2
    for p in range(1000):
        guard.admit(f"peer-{p}", T0 + 3, key_id=0, iv=iv_at(T0), invocation_id=p)
        assert len(guard) <= 4
    assert guard.evicted_peers == 1001


def test_time_floor_keeps_evicted_ivs_refused_across_clock_jumps() -> None:
    guard = ReplayGuard(window=50, max_ids=2)
    for i in range(5):
        guard.admit(PEER, T0, key_id=4, iv=iv_at(T0 + i))
    # evictions raised the floor to T0 + 2; a clock going backwards brings nothing back
    for i in range(5):
        with pytest.raises(ReplayError):
            guard.admit(PEER, T0 - 1000, key_id=4, iv=iv_at(T0 + i))
    assert guard.refused == {Refusal.STALE: 3, Refusal.REPLAYED_IV: 2}
    # under memory pressure the effective window shrinks: an older in-window IV is refused too
    refused(guard, Refusal.STALE, PEER, T0, key_id=4, iv=iv_at(T0 - 10))
    guard.admit(PEER, T0, key_id=4, iv=iv_at(T0 + 5))


@settings(max_examples=150, deadline=None)
@given(
    st.booleans(),
    st.integers(1, 6),
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 1), st.integers(0, 12), st.integers(-20, 40)),
        min_size=1,
        max_size=120,
    ),
)
def test_no_iv_ever_admitted_twice(iv_is_time: bool, max_ids: int, events: list[tuple[int, int, int, int]]) -> None:
    """Whatever the order, clock and memory pressure: one (peer, key id, IV) is admitted at most once."""
    guard = ReplayGuard(window=10, iv_is_time=iv_is_time, max_ids=max_ids, max_peers=3)
    admitted: set[tuple[int, int, int]] = set()
    for peer, key_id, iv, now in events:
        try:
            guard.admit(peer, T0 + now, key_id=key_id, iv=iv_at(T0 + iv))
        except ReplayError:
            continue
        assert (peer, key_id, iv) not in admitted
        admitted.add((peer, key_id, iv))
        assert guard.remembered(peer) <= max_ids
    assert sum(guard.refused.values()) == len(events) - len(admitted)
    assert guard.evicted_peers == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"iv": b"\x00\x00\x00\x01"},  # IV without key id
        {"key_id": 2, "iv": b"\x00\x00\x01"},
        {"key_id": 2, "iv": b"\x00\x00\x00\x00\x01"},
        {"key_id": 256, "iv": bytes(4)},
        {"invocation_id": "3"},
        {"invocation_id": True},
    ],
)
def test_replay_guard_bad_arguments(kwargs: dict[str, object]) -> None:
    guard = ReplayGuard()
    with pytest.raises(LocalProtocolError):
        guard.admit(PEER, T0, **kwargs)  # type: ignore[arg-type]
    assert len(guard) == 0 and not guard.refused


@pytest.mark.parametrize(
    "kwargs",
    [{"window": 0}, {"window": -1}, {"window": float("nan")}, {"max_peers": 0}, {"max_ids": 0}],
)
def test_replay_guard_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(LocalProtocolError):
        ReplayGuard(**kwargs)  # type: ignore[arg-type]


def test_replay_guard_bad_now() -> None:
    with pytest.raises(LocalProtocolError):
        ReplayGuard().admit(PEER, float("nan"), invocation_id=1)
