"""The meter's HAN module end to end in memory: join in a permit window, registration through the meter,
leave, a refused join, SP21 switching over a lossy PLC link executed once; the HAN message codec."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.procedures import ProcedureResponse, ResultCode
from openami.c1222.services import FullRead, OkResponse, ReadResponse, Registration
from openami.channel import Link
from openami.channel.ofdm import g3_modem
from openami.errors import LocalProtocolError, ProtocolError
from openami.han.appliance import Appliance, ApplianceIdentity
from openami.han.loads import HeaterLoad, MotorLoad
from openami.han.pairing import HanState, PermitJoin, Refusal
from openami.han.policies import AppliancePolicy
from openami.link import ArqConfig
from openami.meter.engine.loads import CompositeLoad, Spectrum
from openami.meter.han import (
    METER_ADDRESS,
    HanMessage,
    HanModule,
    MessageType,
    decode_message,
    encode_message,
)
from openami.meter.loadcontrol import LoadControlEngine
from openami.transport.han import PlcMedium

V = Spectrum.sine(240.0)
F = 60.0
T0 = 1_772_000_000.0


def appliances() -> list[Appliance]:
    def make(i: int, kind: str, load: object, rated: float) -> Appliance:
        ident = ApplianceIdentity(kind=kind, ap_title=f".123.8437.{10 + i}", serial=str(5000 + i))
        return Appliance(ident, load, AppliancePolicy(priority=10 * i, rated_w=rated), now=T0)  # type: ignore[arg-type]

    return [
        make(0, "heater", HeaterLoad(2000.0), 2000.0),
        make(1, "heater2", HeaterLoad(1000.0), 1000.0),
        make(2, "motor", MotorLoad(750.0), 750.0),
        make(3, "heater3", HeaterLoad(500.0), 500.0),
        make(4, "heater4", HeaterLoad(300.0), 300.0),
    ]


def clean_module(**kw: object) -> HanModule:
    medium = PlcMedium(Link.flat(g3_modem(), 30.0), np.random.default_rng(1))
    return HanModule(medium, V, F, now=T0, **kw)  # type: ignore[arg-type]


def procedure_runs(appliance: Appliance, procedure: int) -> int:
    """Event 9 (procedure invoked, argument = procedure number) entries in the appliance's own log."""
    return sum(1 for e in appliance.log if e.code == 9 and int.from_bytes(e.argument, "little") == procedure)


def test_five_appliances_join_register_leave_and_refuse() -> None:
    han = clean_module()
    five = appliances()
    for a in five:
        han.attach(a)
    han.open_permit(T0, 60.0)
    for i, a in enumerate(five[:3]):
        han.join(a, T0 + 1 + i)
    han.step(T0 + 10)
    registry = han.permit.registry
    assert len(registry) == 3
    for a in five[:3]:
        entry = registry.get(a.identity.serial)
        assert entry is not None and entry.state is HanState.REGISTERED
        assert entry.ap_title == a.ap_title and entry.address == a.han_address
        assert entry.address not in (None, METER_ADDRESS)
        assert registry.by_title(a.ap_title) is entry
    assert len({e.address for e in registry}) == 3
    assert [r.ap_title for r in han.pending_registrations] == [a.ap_title for a in five[:3]]
    assert all(isinstance(r, Registration) for r in han.pending_registrations)
    assert han.pending_registrations[0].native_address == five[0].native_address
    # one leaves and is deregistered
    han.leave(five[1], T0 + 20)
    han.step(T0 + 30)
    assert five[1].identity.serial not in registry and len(registry) == 2
    assert [d.ap_title for d in han.pending_deregistrations] == [five[1].ap_title]
    # outside the window: refused
    han.join(five[3], T0 + 100)
    han.step(T0 + 110)
    assert han.refusal(five[3]) is Refusal.WINDOW_CLOSED
    assert five[3].identity.serial not in registry and five[3].han_address is None
    assert han.permit.refusals[Refusal.WINDOW_CLOSED] == 1
    # the unjoined appliance cannot be addressed
    with pytest.raises(LocalProtocolError):
        han.switch(five[3].ap_title, False, T0 + 120)


def test_install_code_required() -> None:
    permit = PermitJoin(first_address=2, require_install_code=True)
    ident = ApplianceIdentity(kind="plug", ap_title=".123.8437.99", serial="77", install_code=b"\x42" * 16)
    permit.provision("77", b"\x42" * 16)
    good = Appliance(ident, HeaterLoad(100.0), now=T0)
    bad_ident = ApplianceIdentity(kind="plug", ap_title=".123.8437.98", serial="78", install_code=b"\x00" * 16)
    bad = Appliance(bad_ident, HeaterLoad(100.0), now=T0)
    han = clean_module(permit=permit)
    han.attach(good)
    han.attach(bad)
    han.open_permit(T0, 60.0)
    han.join(good, T0)
    han.join(bad, T0)
    han.step(T0 + 5)
    assert permit.registry.get("77") is not None and permit.registry.get("78") is None
    assert han.refusal(bad) is Refusal.BAD_INSTALL_CODE


def _switch_over_lossy_plc(seed: int) -> tuple[HanModule, Appliance]:
    medium = PlcMedium(Link.flat(g3_modem(), 7.0), np.random.default_rng(seed))
    han = HanModule(medium, V, F, now=T0, arq=ArqConfig(max_retries=20))
    five = appliances()
    for a in five:
        han.attach(a)
    han.open_permit(T0, 600.0)
    han.join(five[0], T0)
    han.step(T0 + 60)
    target = five[0]
    assert target.on is True
    han.switch(target.ap_title, False, T0 + 60)
    han.step(T0 + 200)
    return han, target


def test_switch_off_over_lossy_plc_executes_once() -> None:
    duplicates = 0
    for seed in range(6):
        han, target = _switch_over_lossy_plc(seed)
        assert han.permit.registry.by_title(target.ap_title) is not None, seed
        assert target.on is False, seed
        assert han.executed[target.identity.serial] == 1, seed
        assert procedure_runs(target, 21) == 1, seed  # the appliance's own log: SP21 ran once
        assert [r for _, _, r in han.responses] == [OkResponse()]
        duplicates += han.network.nodes[target.han_address or 0].stats.duplicates
    assert duplicates > 0  # some ACKs were lost and frames retried, yet nothing ran twice


def test_switch_result_readable_and_power_sum() -> None:
    han = clean_module()
    five = appliances()
    for a in five:
        han.attach(a)
    han.open_permit(T0, 60.0)
    han.join(five[0], T0)
    han.join(five[1], T0)
    step = han.step(T0 + 10)
    assert step.power_w == pytest.approx(sum(a.power_w for a in five))
    han.switch(five[0].ap_title, False, T0 + 10)
    han.step(T0 + 20)
    han.request(five[0].ap_title, FullRead(8), T0 + 20)
    step = han.step(T0 + 30)
    _, _, answer = han.responses[-1]
    assert isinstance(answer, ReadResponse)
    assert ProcedureResponse.decode(answer.data, five[0].config.formats).result == ResultCode.COMPLETED
    assert five[0].power_w == 0.0 and step.power_w == pytest.approx(sum(a.power_w for a in five[1:]))
    composite = CompositeLoad(base=HeaterLoad(100.0), appliances=han.loads())
    total = composite.current(T0 + 30, V, F)
    expected = HeaterLoad(100.0).current(T0 + 30, V, F) + step.current
    assert total.rms == pytest.approx(expected.rms) and total.phases == pytest.approx(expected.phases)


def test_engine_decisions_become_switch_commands() -> None:
    engine = LoadControlEngine(period_s=1.0)
    han = clean_module(engine=engine)
    a = appliances()[0]
    han.attach(a, point=0)
    han.open_permit(T0, 60.0)
    han.join(a, T0)
    han.step(T0 + 5)
    engine.set_policy(0, AppliancePolicy(priority=0, rated_w=2000.0, price_threshold=0.10))
    engine.set_price(0.50)
    result = han.step(T0 + 6)
    assert any(d.point == 0 and not d.on for d in result.decisions)
    han.step(T0 + 10)
    assert a.on is False


# -- the HAN message codec --------------------------------------------------------------------------------------

MESSAGES = st.one_of(
    st.builds(
        HanMessage,
        st.just(MessageType.JOIN_REQUEST),
        appliance_id=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40),
        install_code=st.one_of(st.none(), st.binary(min_size=1, max_size=32)),
    ),
    st.builds(HanMessage, st.just(MessageType.JOIN_ACCEPT), address=st.integers(0, 0xFFFF)),
    st.builds(HanMessage, st.just(MessageType.JOIN_REFUSED), reason=st.sampled_from([str(r) for r in Refusal])),
    st.builds(HanMessage, st.sampled_from([MessageType.C12_APDU, MessageType.LEAVE]), body=st.binary(max_size=64)),
)


@settings(max_examples=200)
@given(MESSAGES)
def test_message_round_trip_and_prefixes(message: HanMessage) -> None:
    raw = encode_message(message)
    assert decode_message(raw) == message
    assert encode_message(decode_message(raw)) == raw
    for n in range(len(raw)):
        with contextlib.suppress(ProtocolError):
            decode_message(raw[:n])


def test_message_layout_bytes() -> None:
    assert encode_message(HanMessage(MessageType.JOIN_ACCEPT, address=0x0102)) == b"\x02\x01\x02"
    assert encode_message(HanMessage(MessageType.JOIN_REQUEST, "7", b"\xaa")) == b"\x01\x01" + b"7" + b"\xaa"
    with pytest.raises(ProtocolError):
        decode_message(b"\x02\x01")  # truncated accept
    with pytest.raises(ProtocolError):
        decode_message(b"\x02\x01\x02\x03")  # trailing garbage
    with pytest.raises(ProtocolError):
        decode_message(b"\x09")


@settings(max_examples=200)
@given(st.binary(max_size=40))
def test_random_bytes_decode_or_raise_protocol_error(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_message(data)
