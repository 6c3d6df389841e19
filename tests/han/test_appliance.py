"""An appliance's tables through its responder, energy integration, SP21 switching, and its C12.22
Registration / Deregistration through the services codec."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openami.c1219.procedures import (
    DirectLoadControlParams,
    LoadControlAction,
    ProcedureRequest,
    ProcedureResponse,
    ResultCode,
)
from openami.c1222.aptitle import ApTitle
from openami.c1222.services import (
    ConnectionType,
    FullRead,
    FullWrite,
    NodeType,
    OkResponse,
    ReadResponse,
    Registration,
    decode_request,
)
from openami.errors import LocalProtocolError
from openami.han.appliance import Appliance, ApplianceIdentity
from openami.han.loads import HeaterLoad, MotorLoad
from openami.han.policies import AppliancePolicy
from openami.meter.access import Clearance
from openami.meter.engine.loads import Spectrum

V = Spectrum.sine(240.0)
F = 60.0
T0 = 1_772_000_000.0
MASTER = Clearance(groups=0xFF, authenticated=True, user_id=3)
IDENT = ApplianceIdentity(kind="heater", ap_title=".123.8437.5", serial="4242", install_code=b"\x11" * 16)


def heater(**kw: object) -> Appliance:
    return Appliance(IDENT, HeaterLoad(2000.0), AppliancePolicy(priority=20, rated_w=2000.0), now=T0, **kw)  # type: ignore[arg-type]


def read(appliance: Appliance, number: int) -> dict:  # type: ignore[type-arg]
    answer = appliance.responder.answer(FullRead(number), MASTER, appliance.now)
    assert isinstance(answer, ReadResponse), answer
    return appliance.responder.store.layout(number).decode(answer.data)


def sp21(appliance: Appliance, action: LoadControlAction, duration: int = 0, point: int = 0) -> ProcedureResponse:
    formats = appliance.config.formats
    params = DirectLoadControlParams(point, action, duration=duration).encode(formats)
    request = ProcedureRequest(21, seq_nbr=9, params=params)
    assert appliance.responder.answer(FullWrite(7, request.encode(formats)), MASTER, appliance.now) == OkResponse()
    answer = appliance.responder.answer(FullRead(8), MASTER, appliance.now)
    assert isinstance(answer, ReadResponse)
    return ProcedureResponse.decode(answer.data, formats)


def test_identity_tables() -> None:
    appliance = heater()
    st1 = read(appliance, 1)
    assert st1["MANUFACTURER"] == "OAMI"
    assert st1["ED_MODEL"].rstrip() == "heater"
    assert st1["MFG_SERIAL_NUMBER"].rstrip() == "4242"
    assert read(appliance, 0)["DEVICE_CLASS"] is not None
    assert str(read(appliance, 5)["IDENTIFICATION"]).rstrip() == "4242"
    point = read(appliance, 113)["CONTROL_POINT_CONFIG"][0]
    assert (point["PRIORITY"], point["RATED_LOAD"]) == (20, 2000.0)


def test_energy_register_and_present_power_follow_the_load() -> None:
    appliance = heater()
    appliance.advance(T0 + 1800, V, F)
    half = read(appliance, 23)["TOT_DATA_BLOCK"]["SUMMATIONS"][0]
    assert half == pytest.approx(1000.0)  # 2 kW for half an hour: P = V²/R
    appliance.advance(T0 + 3600, V, F)
    assert read(appliance, 23)["TOT_DATA_BLOCK"]["SUMMATIONS"][0] == pytest.approx(2000.0)
    assert read(appliance, 28)["PRESENT_VALUE"][0] == pytest.approx(2000.0)
    status = read(appliance, 112)["CONTROL_POINT_STATUS"][0]
    assert status["CONTROL_LEVEL"] == 100 and status["STATUS_FLAGS"]["SUPPLY_ON_FLAG"]


def test_sp21_switches_off_and_on_through_the_responder() -> None:
    appliance = heater()
    appliance.advance(T0 + 60, V, F)
    assert sp21(appliance, LoadControlAction.SHED).result == ResultCode.COMPLETED
    assert appliance.on is False
    status = read(appliance, 112)["CONTROL_POINT_STATUS"][0]
    assert status["CONTROL_LEVEL"] == 0 and not status["STATUS_FLAGS"]["SUPPLY_ON_FLAG"]
    switched_at = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(T0 + 60))
    assert status["LAST_CHANGE"] == switched_at.replace(second=0)  # STIME_DATE: minutes
    before = appliance.energy_wh
    appliance.advance(T0 + 660, V, F)
    assert appliance.energy_wh == before  # off: nothing drawn
    assert read(appliance, 28)["PRESENT_VALUE"][0] == 0.0
    assert sp21(appliance, LoadControlAction.RESTORE).result == ResultCode.COMPLETED
    appliance.advance(T0 + 1260, V, F)
    assert appliance.energy_wh == pytest.approx(before + 2000.0 * 600 / 3600)
    assert read(appliance, 112)["CONTROL_POINT_STATUS"][0]["CONTROL_LEVEL"] == 100
    assert [e.code for e in appliance.log].count(49) >= 2


def test_sp21_with_duration_returns_to_default() -> None:
    appliance = heater()
    assert sp21(appliance, LoadControlAction.SHED, duration=2).result == ResultCode.COMPLETED
    assert read(appliance, 112)["CONTROL_POINT_STATUS"][0]["REMAINING_DURATION"] == 2
    appliance.advance(T0 + 119, V, F)
    assert appliance.on is False
    appliance.advance(T0 + 130, V, F)
    assert appliance.on is True


def test_sp21_on_a_missing_point_is_invalid() -> None:
    assert sp21(heater(), LoadControlAction.SHED, point=3).result == ResultCode.INVALID_PARAMETER


def test_motor_appliance_sees_its_inrush_on_switch_on() -> None:
    motor = MotorLoad(1000.0, pf=0.8, inrush=5.0, inrush_tau_s=0.5)
    ident = ApplianceIdentity(kind="pump", ap_title=".123.8437.6", serial="77")
    appliance = Appliance(ident, motor, on=False, now=0.0)
    appliance.switch(True, 0.0)
    appliance.advance(1.0, V, F)
    assert appliance.power_w == pytest.approx(1000.0 * 5)  # current ×5 at switch-on, same V: P ×5
    appliance.advance(30.0, V, F)
    assert appliance.power_w == pytest.approx(1000.0, rel=1e-6)


def test_registration_round_trips_through_the_services_codec() -> None:
    appliance = heater(registration_period_s=900)
    with pytest.raises(LocalProtocolError):
        appliance.registration_request()  # not joined yet
    appliance.han_address = 0x0203
    request = appliance.registration_request()
    assert request.node_type == NodeType.END_DEVICE
    assert request.native_address == b"\x02\x03"
    assert request.registration_period == 900
    assert request.device_class == b"OAHN"
    assert request.ap_title == ApTitle.parse(".123.8437.5")
    assert request.electronic_serial_number == ApTitle((4242,), relative=True)
    body = request.encode()
    decoded = decode_request(body)
    assert decoded == request and isinstance(decoded, Registration)
    assert decoded.encode() == body
    dereg = appliance.deregistration_request()
    assert decode_request(dereg.encode()) == dereg


@settings(max_examples=50, deadline=None)
@given(
    address=st.integers(1, 0xFFF7),
    period=st.integers(0, 0xFFFFFF),
    connection=st.integers(0, 255),
    serial=st.integers(0, 10**16 - 1),
)
def test_registration_round_trips_for_any_address_period_and_serial(
    address: int, period: int, connection: int, serial: int
) -> None:
    ident = ApplianceIdentity(kind="plug", ap_title=".123.8437.9", serial=str(serial))
    appliance = Appliance(ident, HeaterLoad(10.0), registration_period_s=period)
    appliance.han_address = address
    request = appliance.registration_request(ConnectionType(connection))
    assert decode_request(request.encode()) == request


@pytest.mark.parametrize(
    "kw",
    [
        {"kind": "heater", "ap_title": ".1.2", "serial": "12ab"},
        {"kind": "heater", "ap_title": ".1.2", "serial": "1", "device_class": "TOOLONG"},
        {"kind": "", "ap_title": ".1.2", "serial": "1"},
        {"kind": "heater", "ap_title": ".1.x", "serial": "1"},
    ],
)
def test_bad_identities_are_refused(kw: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(LocalProtocolError):
        ApplianceIdentity(**kw)
