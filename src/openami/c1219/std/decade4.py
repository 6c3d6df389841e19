"""Decade 4, security: ST40 DIM_SECURITY_LIMITING_TBL … ST46 EXTENDED_KEY_TBL.

Layouts (octets; dimensions from ST41 ACT_SECURITY_LIMITING_TBL; bit 0 = least significant bit)::

    ST40/41  NBR_PASSWORDS UINT8, PASSWORD_LEN UINT8, NBR_KEYS UINT8, KEY_LEN UINT8, NBR_PERM_USED UINT16
    ST42     SECURITY_ENTRIES[NBR_PASSWORDS] of {PASSWORD BINARY(PASSWORD_LEN),
                                                 ACCESS_PERMISSIONS UINT8: GROUP_PERM_0 b0 … GROUP_PERM_7 b7}
    ST43     TABLE_DEFAULT, PROCEDURE_DEFAULT: ACCESS_CONTROL_ENTRY_RCD each               (8 octets)
    ST44     ACCESS_CONTROL[NBR_PERM_USED] of ACCESS_CONTROL_ENTRY_RCD                       (4 each)
    ACCESS_CONTROL_ENTRY_RCD = TABLE_IDC (UINT16: TBL_PROC_NBR b0–10, STD_VS_MFG_FLAG b11, PROC_FLAG b12,
                               ANY_READ b13, ANY_WRITE b14, FLAG3 b15), READ_ACCESS UINT8, WRITE_ACCESS UINT8
    ST45     KEY_ENTRIES[NBR_KEYS] of {KEY BINARY(KEY_LEN)}
    ST46     KEY_ENTRIES[NBR_KEYS] of {KEY_TYPE UINT8, KEY BINARY(KEY_LEN)}            (unverified, see below)

A password grants the access groups whose GROUP_PERM bits are set; a table or procedure listed in ST44
(else the ST43 default) may be read / written by a user holding any group set in READ_ACCESS /
WRITE_ACCESS, or by anyone when ANY_READ / ANY_WRITE is set (for procedures "write" = execute). The
C12.22 key id is the index into KEY_ENTRIES.

Sources and confidence:
- ST41 field order and widths, ST42 entry size, ST44 entry size and the TABLE_IDC bits (number, mfg,
  proc, any-read, any-write), ST45 = NBR_KEYS × KEY_LEN octets: c12-protocol-facts.md §7 and termineter's
  ``c1219/access/security.py`` (which reads them the same way). High.
- Names PASSWORD, GROUP_PERM_n: Itron's table-element enum (``STDTBL42_PASSWORD``, ``STDTBL42_GROUP_PERM_0``).
  SECURITY_ENTRIES, ACCESS_PERMISSIONS, ACCESS_CONTROL, KEY_ENTRIES: a Microchip MM100 meter firmware and
  Elster's MeteringSDK documentation ("KEY_ENTRIES array … Table 45, KEY_TBL or Table 46, EXTENDED_KEY_TBL").
  TABLE_IDC / READ_ACCESS / WRITE_ACCESS and ANY_READ / ANY_WRITE (TABLE_IDC_BFLD's FLAG1 / FLAG2) are
  our names: the standard's element names for these were not found.
- ST43 as two entries (tables default, then procedures default): one public firmware (MM100) only.
  Medium-low; check against the standard's text.
- ST46: no public layout found. The KEY_TYPE octet before each key is from memory of the 2012 edition
  and unverified; dimensions are assumed to be ST41's NBR_KEYS and KEY_LEN.
"""

from __future__ import annotations

from openami.c1219.schema import BINARY, UINT8, UINT16, ArrayOf, Bit, BitField, Field, Record, Table

__all__ = [
    "ACCESS_CONTROL_ENTRY_RCD",
    "ACCESS_CONTROL_TBL",
    "ACCESS_PERMISSION_BFLD",
    "ACT_SECURITY_LIMITING_TBL",
    "DEFAULT_ACCESS_CONTROL_TBL",
    "DIM_SECURITY_LIMITING_TBL",
    "EXTENDED_KEY_TBL",
    "KEY_TBL",
    "SECURITY_LIMITING_RCD",
    "SECURITY_TBL",
    "TABLES",
    "TABLE_IDC_BFLD",
]

ACT = "ACT_SECURITY_LIMITING_TBL"

SECURITY_LIMITING_RCD = Record(
    Field("NBR_PASSWORDS", UINT8),
    Field("PASSWORD_LEN", UINT8, unit="octet"),
    Field("NBR_KEYS", UINT8),
    Field("KEY_LEN", UINT8, unit="octet"),
    Field("NBR_PERM_USED", UINT16, "entries in ST44 ACCESS_CONTROL_TBL"),
)
"""The 6-octet record shared by ST40 (maximum capabilities) and ST41 (values in use)."""

_LIMITS_SOURCE = "c12-protocol-facts.md §7; termineter c1219/access/security.py reads the same 6 octets"

DIM_SECURITY_LIMITING_TBL = Table(
    40, "DIM_SECURITY_LIMITING_TBL", SECURITY_LIMITING_RCD, title="Dimension security limiting", source=_LIMITS_SOURCE
)
ACT_SECURITY_LIMITING_TBL = Table(
    41, ACT, SECURITY_LIMITING_RCD, title="Actual security limiting", source=_LIMITS_SOURCE
)

ACCESS_PERMISSION_BFLD = BitField(UINT8, *(Bit(f"GROUP_PERM_{n}", n, doc=f"access group {n}") for n in range(8)))
"""Eight access-group flags (a password's groups in ST42; the groups allowed in ST43/ST44)."""

SECURITY_TBL = Table(
    42,
    "SECURITY_TBL",
    Record(
        Field(
            "SECURITY_ENTRIES",
            ArrayOf(
                Record(
                    Field("PASSWORD", BINARY(f"{ACT}.PASSWORD_LEN"), "blank- or zero-padded as the device stores it"),
                    Field("ACCESS_PERMISSIONS", ACCESS_PERMISSION_BFLD, "the groups this password opens"),
                ),
                f"{ACT}.NBR_PASSWORDS",
            ),
        ),
    ),
    title="Security (passwords and their access groups)",
    source="c12-protocol-facts.md §7; termineter and Hexing decoders read PASSWORD_LEN octets + 1 group octet",
)

TABLE_IDC_BFLD = BitField(
    UINT16,
    Bit("TBL_PROC_NBR", 0, 10, doc="table or procedure number"),
    Bit("STD_VS_MFG_FLAG", 11, doc="manufacturer table / procedure"),
    Bit("PROC_FLAG", 12, doc="the number is a procedure's"),
    Bit("ANY_READ", 13, doc="FLAG1: anyone may read (procedures: see the result)"),
    Bit("ANY_WRITE", 14, doc="FLAG2: anyone may write (procedures: execute)"),
    Bit("FLAG3", 15),
)
"""TABLE_IDC_BFLD as used by the access-control tables (FLAG1/FLAG2 named by their meaning there)."""

ACCESS_CONTROL_ENTRY_RCD = Record(
    Field("TABLE_IDC", TABLE_IDC_BFLD),
    Field("READ_ACCESS", ACCESS_PERMISSION_BFLD, "groups allowed to read"),
    Field("WRITE_ACCESS", ACCESS_PERMISSION_BFLD, "groups allowed to write / execute"),
)
"""Access rights of one table or procedure (4 octets)."""

DEFAULT_ACCESS_CONTROL_TBL = Table(
    43,
    "DEFAULT_ACCESS_CONTROL_TBL",
    Record(
        Field("TABLE_DEFAULT", ACCESS_CONTROL_ENTRY_RCD, "rights of tables not listed in ST44"),
        Field("PROCEDURE_DEFAULT", ACCESS_CONTROL_ENTRY_RCD, "rights of procedures not listed in ST44"),
    ),
    title="Default access control",
    source="one public meter firmware (Microchip MM100 demo); unverified against the standard's text",
)

ACCESS_CONTROL_TBL = Table(
    44,
    "ACCESS_CONTROL_TBL",
    Record(Field("ACCESS_CONTROL", ArrayOf(ACCESS_CONTROL_ENTRY_RCD, f"{ACT}.NBR_PERM_USED"))),
    title="Access control",
    source="c12-protocol-facts.md §7; termineter c1219/access/security.py (4 octets an entry, same bits)",
)

KEY_TBL = Table(
    45,
    "KEY_TBL",
    Record(
        Field(
            "KEY_ENTRIES",
            ArrayOf(Record(Field("KEY", BINARY(f"{ACT}.KEY_LEN"))), f"{ACT}.NBR_KEYS"),
            "indexed by the C12.22 key id",
        ),
    ),
    title="Keys",
    source="c12-protocol-facts.md §7; termineter reads NBR_KEYS × KEY_LEN octets; name from MeteringSDK docs",
)

EXTENDED_KEY_TBL = Table(
    46,
    "EXTENDED_KEY_TBL",
    Record(
        Field(
            "KEY_ENTRIES",
            ArrayOf(
                Record(
                    Field("KEY_TYPE", UINT8, "the cipher the key is for (codes not verified)"),
                    Field("KEY", BINARY(f"{ACT}.KEY_LEN")),
                ),
                f"{ACT}.NBR_KEYS",
            ),
            "indexed by the C12.22 key id",
        ),
    ),
    title="Extended keys",
    source="UNVERIFIED: no public layout found; recalled from the 2012 edition (KEY_TYPE + KEY per entry)",
)

TABLES = (
    DIM_SECURITY_LIMITING_TBL,
    ACT_SECURITY_LIMITING_TBL,
    SECURITY_TBL,
    DEFAULT_ACCESS_CONTROL_TBL,
    ACCESS_CONTROL_TBL,
    KEY_TBL,
    EXTENDED_KEY_TBL,
)
