"""``openami c1222 decode`` on the public captures, on hex, and on bad input.

Expected contents: c12-protocol-facts.md (Example 8: Security "PASSWORD" user id 2 + Partial Read ST1
offset 16 count 16, answered by "MANUFACTURER SN " with checksum 0x92; "testdata" → checksum 0xA6)
and the captures' PROVENANCE.md / tshark (nDPI: Identify, then four procedure writes to ST7 and a
read of ST8).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from openami.capture import Endpoint, PcapWriter, Record, build_frame, synthesize_frames
from openami.cli.c1222 import c1222_app

PCAPS = Path(__file__).resolve().parents[3] / "shared" / "c1222-pcaps"
needs_pcaps = pytest.mark.skipif(not PCAPS.is_dir(), reason=f"captures not found at {PCAPS}")
KEY = "2:01020304050607080102030405060708"
EX8_REQUEST = (
    "604fa20580037bc175a60480027b04a803020103ac0fa20da00ba109800102810448f3d061be2a282881268841d10cda"
    "76206811b36f781489a11997773e117cb07aa3aa40374a7107c50da7f799c5d4e8"
)
EX8_RESPONSE = (
    "6048a20480027b04a403020103a60580037bc175a803020103ac0fa20da00ba109800102810448f3d060be1e281c811a"
    "884baee4349631ab5e56a0e6e0e90dfad558591ee4ea334cb268"
)

app = typer.Typer()  # the command group mounted as ``openami c1222`` is
app.add_typer(c1222_app, name="c1222")


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["c1222", "decode", *args])


def run_json(*args: str) -> list[dict[str, Any]]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.stderr
    messages = json.loads(result.stdout)
    assert isinstance(messages, list)
    return messages


def captures() -> list[str]:
    return sorted(p.name for p in PCAPS.iterdir() if p.suffix in (".pcap", ".cap", ".pcapng")) if PCAPS.is_dir() else []


# ------------------------------------------------------------------------------------ the captures


@needs_pcaps
@pytest.mark.parametrize("name", captures())
def test_every_capture_decodes(name: str) -> None:
    messages = run_json("--pcap", str(PCAPS / name), "--key", KEY)
    assert messages and all("error" not in m for m in messages)
    assert [m["index"] for m in messages] == list(range(len(messages)))
    for m in messages:
        assert m["security"]["mac"] in ("none", "good", "no-key")
        assert all(s["summary"] for s in m.get("services", []))
    human = run("--pcap", str(PCAPS / name), "--key", KEY)
    assert human.exit_code == 0 and "#0" in human.stdout and human.stderr == ""


@needs_pcaps
def test_example8_with_the_key() -> None:
    request, response = run_json("--pcap", str(PCAPS / "c1222_std_example8.pcap"), "--key", KEY)
    assert request["security"]["mac"] == "good" and response["security"]["mac"] == "good"
    assert (request["frame"], request["src"], request["dst"], request["transport"]) == (
        1,
        "10.1.1.1:1153",
        "10.2.2.2:50000",
        "tcp",
    )
    security, read = request["services"]
    assert security["service"] == "security" and security["password_text"].rstrip() == "PASSWORD"
    assert security["user_id"] == 2
    assert (read["service"], read["table"], read["offset"], read["octet_count"]) == (
        "partial read by offset",
        1,
        16,
        16,
    )
    (data,) = response["services"]
    assert (data["text"], data["checksum"], data["checksum_ok"]) == ("MANUFACTURER SN ", 0x92, True)
    assert data["request"]["service"] == "partial read by offset"
    assert response["request_index"] == request["index"]
    human = run("--pcap", str(PCAPS / "c1222_std_example8.pcap"), "--key", KEY).stdout
    for text in ("MAC good", "PASSWORD", "ST1 offset 16 count 16", "'MANUFACTURER SN '", "0x92", "answers #0"):
        assert text in human


@needs_pcaps
@pytest.mark.parametrize(("keys", "verdict"), [(["--key", "2:" + "00" * 16], "bad"), ([], "no-key")])
def test_example8_wrong_or_no_key(keys: list[str], verdict: str) -> None:
    messages = run_json("--pcap", str(PCAPS / "c1222_std_example8.pcap"), *keys)
    assert [m["security"]["mac"] for m in messages] == [verdict, verdict]
    assert all("services" not in m and m["security"]["ciphertext"] for m in messages)
    assert f"MAC {verdict}" in run("--pcap", str(PCAPS / "c1222_std_example8.pcap"), *keys).stdout


@needs_pcaps
def test_ndpi_trace() -> None:
    messages = run_json("--pcap", str(PCAPS / "ndpi_c1222.pcapng"))
    identify, procedures = messages[0], messages[1]
    assert [s["service"] for s in identify["services"]] == ["identify"]
    assert identify["transport"] == "udp"
    services = procedures["services"]
    assert [(s["service"], s["table"]) for s in services] == [("full write", 7)] * 4 + [("full read", 8)]
    assert [s["procedure"]["name"] for s in services[:4]] == ["MP52", "SP15", "MP62", "MP37"]
    assert [m["security"]["mac"] for m in messages[2:]] == ["no-key", "no-key"]  # key id 0 is not published


@needs_pcaps
def test_synthetic_captures_pair_and_flag_checksums() -> None:
    _, rw = run_json("--pcap", str(PCAPS / "c1222_rw_service_tcp.pcap"))
    (read,) = rw["services"]
    assert (read["text"], read["checksum"], read["expected_checksum"], read["checksum_ok"]) == (
        "testdata",
        0,
        0xA6,
        False,
    )
    _, error = run_json("--pcap", str(PCAPS / "c1222_service_error_tcp.pcap"))
    (service,) = error["services"]
    assert (service["response"], service["request"]["service"]) == ("ISSS", "identify")


@needs_pcaps
def test_port_selection() -> None:
    path = str(PCAPS / "c1222_std_example8.pcap")
    assert run_json("--pcap", path, "--port", "9999") == []
    assert "no C12.22 messages found" in run("--pcap", path, "--port", "9999").stdout
    assert len(run_json("--pcap", path, "--port", "50000")) == 2
    assert len(run_json("--pcap", path, "--all-ports", "--port", "9999")) == 2


# ------------------------------------------------------------------------------------------- hex


def test_hex_request_and_lone_response() -> None:
    (request,) = run_json("--hex", EX8_REQUEST, "--key", KEY)
    assert request["security"]["mac"] == "good" and request["kind"] == "request"
    (response,) = run_json("--hex", EX8_RESPONSE, "--key", KEY)
    (service,) = response["services"]
    assert service["response"] == "OK" and service["raw"] == "0010" + b"MANUFACTURER SN ".hex() + "92"
    assert "request_index" not in response
    human = run("--hex", EX8_RESPONSE, "--key", KEY, "--key", KEY)  # the same key twice is fine
    assert human.exit_code == 0 and "no matching request" in human.stdout


def test_capture_notes_go_to_stderr(tmp_path: Path) -> None:
    a, b = Endpoint("10.0.0.1", 40000), Endpoint("10.0.0.2", 1153)
    records = [
        Record(1.0, a, b, "tcp", bytes.fromhex(EX8_REQUEST)),
        Record(2.0, a, b, "tcp", bytes.fromhex(EX8_REQUEST)),
    ]
    frames = list(synthesize_frames(records, mss=40))
    del frames[4]  # the second segment of the first APDU never made it into the capture
    writer = PcapWriter()
    (tmp_path / "gap.pcap").write_bytes(writer.header() + b"".join(writer.packet(t, f) for t, f in frames))
    result = run("--pcap", str(tmp_path / "gap.pcap"), "--key", KEY, "--json")
    assert result.exit_code == 0
    assert "note:" in result.stderr and "missing" in result.stderr
    assert [m["security"]["mac"] for m in json.loads(result.stdout)] == ["good"]  # the second APDU


def test_time_stamp_beyond_the_calendar(tmp_path: Path) -> None:
    """pcapng with if_tsresol = 1 s and a 2**62 s time stamp: shown in seconds, no crash."""

    def block(kind: int, body: bytes) -> bytes:
        body += b"\x00" * (-len(body) % 4)
        return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    frame = build_frame(Endpoint("10.0.0.1", 40000), Endpoint("10.0.0.2", 1153), "udp", bytes.fromhex(EX8_REQUEST))
    data = (
        block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
        + block(1, struct.pack("<HHI", 1, 0, 0) + struct.pack("<HHB3x", 9, 1, 0) + bytes(4))
        + block(6, struct.pack("<IIIII", 0, 1 << 30, 0, len(frame), len(frame)) + frame)
    )
    result = run("--pcap", bad_capture(tmp_path, "future.pcapng", data))
    assert result.exit_code == 0 and f"{float(1 << 62)} s" in result.stdout


# ------------------------------------------------------------------------------------- bad input


def bad_capture(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--hex", "zz"], "--hex"),
        (["--hex", "6003a1"], "--hex"),
        (["--hex", "600380"], "--hex"),
        ([], "exactly one"),
        (["--hex", EX8_REQUEST, "--pcap", "x.pcap"], "exactly one"),
        (["--pcap", "/nonexistent/c.pcap"], "cannot read"),
        (["--pcap", "/"], "cannot read"),
        (["--hex", EX8_REQUEST, "--key", "2"], "--key"),
        (["--hex", EX8_REQUEST, "--key", "2:zz"], "--key"),
        (["--hex", EX8_REQUEST, "--key", "256:" + "00" * 16], "--key"),
        (["--hex", EX8_REQUEST, "--key", "x:" + "00" * 16], "--key"),
        (["--hex", EX8_REQUEST, "--key", "2:" + "00" * 15], "--key"),
        (["--hex", EX8_REQUEST, "--key", KEY, "--key", "2:" + "00" * 16], "two different keys"),
    ],
)
def test_bad_input_fails_with_one_line(args: list[str], words: str) -> None:
    result = run(*args)
    assert result.exit_code != 0 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"not a capture at all", "bad magic"),
        (bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000") + bytes(10), "truncated record header"),
        (bytes.fromhex("0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1d000000"), "trailing block length"),
    ],
)
def test_malformed_capture_fails_with_one_line(tmp_path: Path, data: bytes, words: str) -> None:
    result = run("--pcap", bad_capture(tmp_path, "bad.pcap", data))
    assert result.exit_code != 0 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --pcap") and words in lines[0]
