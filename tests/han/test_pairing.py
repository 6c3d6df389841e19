"""The meter's permit-join window, install codes, addresses, leave / rejoin, missed re-registrations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1222.aptitle import ApTitle
from openami.errors import LocalProtocolError
from openami.han.appliance import Appliance, ApplianceIdentity
from openami.han.loads import HeaterLoad
from openami.han.pairing import (
    FIRST_ADDRESS,
    LAST_ADDRESS,
    HanState,
    JoinAccepted,
    JoinRefused,
    PermitJoin,
    Refusal,
)

CODE = bytes(range(16))


def test_join_inside_the_window_is_accepted_and_outside_refused() -> None:
    permit = PermitJoin()
    assert permit.request("a", 10.0) == JoinRefused("a", Refusal.WINDOW_CLOSED)
    permit.open(100.0, 60.0)
    assert permit.request("b", 99.9) == JoinRefused("b", Refusal.WINDOW_CLOSED)
    accepted = permit.request("c", 100.0)
    assert accepted == JoinAccepted("c", FIRST_ADDRESS)
    assert permit.request("d", 159.9) == JoinAccepted("d", FIRST_ADDRESS + 1)
    assert permit.request("e", 160.0) == JoinRefused("e", Refusal.WINDOW_CLOSED)
    assert permit.refusals[Refusal.WINDOW_CLOSED] == 3
    assert {e.appliance_id for e in permit.registry} == {"c", "d"}


def test_close_ends_the_window() -> None:
    permit = PermitJoin()
    permit.open(0.0, 100.0)
    permit.close()
    assert permit.request("a", 1.0) == JoinRefused("a", Refusal.WINDOW_CLOSED)


def test_install_code_required_must_match_and_refusals_are_counted() -> None:
    permit = PermitJoin(require_install_code=True, install_codes={"plug": CODE})
    permit.open(0.0, 100.0)
    assert permit.request("plug", 1.0) == JoinRefused("plug", Refusal.BAD_INSTALL_CODE)
    assert permit.request("plug", 1.0, CODE[:-1] + b"\xff") == JoinRefused("plug", Refusal.BAD_INSTALL_CODE)
    assert permit.request("plug", 1.0, CODE[:8]) == JoinRefused("plug", Refusal.BAD_INSTALL_CODE)
    assert permit.request("other", 1.0, CODE) == JoinRefused("other", Refusal.BAD_INSTALL_CODE)  # none provisioned
    assert permit.refusals[Refusal.BAD_INSTALL_CODE] == 4
    assert permit.request("plug", 2.0, CODE) == JoinAccepted("plug", FIRST_ADDRESS)
    permit.provision("other", b"\x01\x02")
    assert permit.request("other", 3.0, b"\x01\x02") == JoinAccepted("other", FIRST_ADDRESS + 1)


def test_install_code_optional_but_checked_when_sent_and_provisioned() -> None:
    permit = PermitJoin(install_codes={"plug": CODE})
    permit.open(0.0, 100.0)
    assert permit.request("plug", 1.0, b"wrong") == JoinRefused("plug", Refusal.BAD_INSTALL_CODE)
    assert isinstance(permit.request("plug", 1.0), JoinAccepted)
    assert isinstance(permit.request("lamp", 1.0, b"anything"), JoinAccepted)


def test_table_full_and_already_joined() -> None:
    permit = PermitJoin(capacity=2)
    permit.open(0.0, 100.0)
    assert isinstance(permit.request("a", 1.0), JoinAccepted)
    assert permit.request("a", 2.0) == JoinRefused("a", Refusal.ALREADY_JOINED)
    assert isinstance(permit.request("b", 1.0), JoinAccepted)
    assert permit.request("c", 1.0) == JoinRefused("c", Refusal.TABLE_FULL)
    assert permit.request("a", 500.0) == JoinRefused("a", Refusal.ALREADY_JOINED)


def test_addresses_are_unique_and_reused_after_leave() -> None:
    permit = PermitJoin()
    permit.open(0.0, 100.0)
    got = [permit.request(f"n{i}", 1.0) for i in range(5)]
    addresses = [g.address for g in got if isinstance(g, JoinAccepted)]
    assert len(set(addresses)) == 5
    left = permit.leave("n2")
    assert left is not None and left.state == HanState.LEFT
    assert permit.leave("n2") is None
    assert permit.registry.by_address(left.address) is None
    again = permit.request("n2", 2.0)
    assert again == JoinAccepted("n2", left.address)  # lowest free address
    assert permit.request("n9", 200.0) == JoinRefused("n9", Refusal.WINDOW_CLOSED)


def test_last_address_then_full() -> None:
    permit = PermitJoin(capacity=10, first_address=LAST_ADDRESS - 1)
    permit.open(0.0, 10.0)
    assert permit.request("a", 0.0) == JoinAccepted("a", LAST_ADDRESS - 1)
    assert permit.request("b", 0.0) == JoinAccepted("b", LAST_ADDRESS)
    assert permit.request("c", 0.0) == JoinRefused("c", Refusal.TABLE_FULL)


def test_registration_through_an_appliance_and_missed_reregistrations_drop_it() -> None:
    permit = PermitJoin(period_s=3600.0, max_missed=3)
    ident = ApplianceIdentity(kind="plug", ap_title=".123.8437.3", serial="31")
    appliance = Appliance(ident, HeaterLoad(100.0), registration_period_s=600)
    permit.open(0.0, 60.0)
    joined = permit.request("31", 5.0)
    assert isinstance(joined, JoinAccepted)
    appliance.han_address = joined.address
    assert permit.register("31", appliance.registration_request(), 6.0) == joined
    entry = permit.registry.get("31")
    assert entry is not None
    assert (entry.state, entry.ap_title, entry.period_s) == (HanState.REGISTERED, ApTitle.parse(".123.8437.3"), 600.0)
    assert permit.registry.by_title(ApTitle.parse(".123.8437.3").absolute()) is entry
    # re-registrations keep it; silence for three periods drops it
    assert permit.register("31", appliance.registration_request(), 1000.0) == joined
    assert permit.poll(1000.0 + 2 * 600) == []
    assert permit.next_timer() == 1000.0 + 3 * 600
    dropped = permit.poll(1000.0 + 3 * 600)
    assert [d.appliance_id for d in dropped] == ["31"] and dropped[0].state == HanState.DROPPED
    assert "31" not in permit.registry
    assert permit.register("31", appliance.registration_request(), 3000.0) == JoinRefused("31", Refusal.NOT_JOINED)
    # rejoin in a new window
    permit.open(4000.0, 60.0)
    assert isinstance(permit.request("31", 4001.0), JoinAccepted)


def test_registration_from_the_wrong_address_is_refused() -> None:
    permit = PermitJoin()
    permit.open(0.0, 60.0)
    permit.request("a", 1.0)
    ident = ApplianceIdentity(kind="plug", ap_title=".9.9", serial="1")
    appliance = Appliance(ident, HeaterLoad(100.0))
    appliance.han_address = 0x0777
    assert permit.register("a", appliance.registration_request(), 2.0) == JoinRefused("a", Refusal.WRONG_ADDRESS)


def test_seen_resets_the_missed_count() -> None:
    permit = PermitJoin(period_s=100.0, max_missed=2)
    permit.open(0.0, 10.0)
    permit.request("a", 0.0)
    assert permit.seen("a", 150.0) and not permit.seen("zz", 150.0)
    assert permit.poll(300.0) == []
    assert [e.appliance_id for e in permit.poll(350.0)] == ["a"]


@pytest.mark.parametrize(
    "kw", [{"capacity": 0}, {"max_missed": 0}, {"period_s": 0.0}, {"first_address": 0}, {"first_address": 0xFFFF}]
)
def test_bad_settings(kw: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(LocalProtocolError):
        PermitJoin(**kw)


def test_bad_window() -> None:
    with pytest.raises(LocalProtocolError):
        PermitJoin().open(0.0, 0.0)


ops = st.one_of(
    st.tuples(st.just("open"), st.floats(1.0, 300.0)),
    st.tuples(st.just("close"), st.just(0.0)),
    st.tuples(st.just("join"), st.integers(0, 11)),
    st.tuples(st.just("leave"), st.integers(0, 11)),
    st.tuples(st.just("seen"), st.integers(0, 11)),
    st.tuples(st.just("wait"), st.floats(0.0, 400.0)),
)


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(ops, max_size=60), capacity=st.integers(1, 8))
def test_random_join_leave_time_sequences_keep_the_invariants(steps: list[tuple[str, float]], capacity: int) -> None:
    permit = PermitJoin(capacity=capacity, period_s=200.0, max_missed=2)
    now = 0.0
    window: tuple[float, float] | None = None  # model of the window
    for op, arg in steps:
        if op == "open":
            permit.open(now, arg)
            window = (now, now + arg)
        elif op == "close":
            permit.close()
            window = None
        elif op == "join":
            name = f"n{int(arg)}"
            before = name in permit.registry
            answer = permit.request(name, now)
            inside = window is not None and window[0] <= now < window[1]
            if isinstance(answer, JoinAccepted):
                assert inside and not before
                assert FIRST_ADDRESS <= answer.address <= LAST_ADDRESS
            elif before:
                assert answer.reason == Refusal.ALREADY_JOINED
            elif not inside:
                assert answer.reason == Refusal.WINDOW_CLOSED
            else:
                assert answer.reason == Refusal.TABLE_FULL and len(permit.registry) == capacity
        elif op == "leave":
            permit.leave(f"n{int(arg)}")
        elif op == "seen":
            permit.seen(f"n{int(arg)}", now)
        else:
            now += arg
            for entry in permit.poll(now):
                assert entry.missed(now) >= 2
        entries = list(permit.registry)
        addresses = [e.address for e in entries]
        assert len(addresses) == len(set(addresses)) == len(entries) <= capacity
        assert all(permit.registry.by_address(e.address) is e for e in entries)
        assert all(e.missed(now) < 2 for e in entries) or op != "wait"
