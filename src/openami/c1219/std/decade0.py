"""Decade 0, configuration: ST0 GEN_CONFIG_TBL … ST8 PROC_RESPONSE_TBL."""

from __future__ import annotations

from openami.c1219.schema import STRING, UINT8, Bit, BitField, Field, Record, SetOf, Table

__all__ = ["GEN_CONFIG_TBL", "TABLES"]

GEN_CONFIG = "GEN_CONFIG_TBL"

GEN_CONFIG_TBL = Table(
    0,
    GEN_CONFIG,
    Record(
        Field(
            "FORMAT_CONTROL_1",
            BitField(UINT8, Bit("DATA_ORDER", 0, 0), Bit("CHAR_FORMAT", 1, 3), Bit("MODEL_SELECT", 4, 6)),
        ),
        Field(
            "FORMAT_CONTROL_2",
            BitField(
                UINT8,
                Bit("TM_FORMAT", 0, 2),
                Bit("DATA_ACCESS_METHOD", 3, 4),
                Bit("ID_FORM", 5, 5),
                Bit("INT_FORMAT", 6, 7),
            ),
        ),
        Field("FORMAT_CONTROL_3", BitField(UINT8, Bit("NI_FORMAT1", 0, 3), Bit("NI_FORMAT2", 4, 7))),
        Field("DEVICE_CLASS", STRING(4)),
        Field("NAMEPLATE_TYPE", UINT8, "0 gas, 1 water, 2 electric"),
        Field("DEFAULT_SET_USED", UINT8, "0 none, 1 simple meter register, 2 demand, 3 TOU, 4 profile"),
        Field("MAX_PROC_PARM_LENGTH", UINT8, unit="octet"),
        Field("MAX_RESP_DATA_LEN", UINT8, unit="octet"),
        Field("STD_VERSION_NO", UINT8),
        Field("STD_REVISION_NO", UINT8),
        Field("DIM_STD_TBLS_USED", UINT8, unit="octet"),
        Field("DIM_MFG_TBLS_USED", UINT8, unit="octet"),
        Field("DIM_STD_PROC_USED", UINT8, unit="octet"),
        Field("DIM_MFG_PROC_USED", UINT8, unit="octet"),
        Field("DIM_MFG_STATUS_USED", UINT8, unit="octet"),
        Field("NBR_PENDING", UINT8),
        Field("STD_TBLS_USED", SetOf(f"{GEN_CONFIG}.DIM_STD_TBLS_USED")),
        Field("MFG_TBLS_USED", SetOf(f"{GEN_CONFIG}.DIM_MFG_TBLS_USED")),
        Field("STD_PROC_USED", SetOf(f"{GEN_CONFIG}.DIM_STD_PROC_USED")),
        Field("MFG_PROC_USED", SetOf(f"{GEN_CONFIG}.DIM_MFG_PROC_USED")),
        Field("STD_TBLS_WRITE", SetOf(f"{GEN_CONFIG}.DIM_STD_TBLS_USED")),
        Field("MFG_TBLS_WRITE", SetOf(f"{GEN_CONFIG}.DIM_MFG_TBLS_USED")),
    ),
    title="General configuration",
    source="c12-protocol-facts.md §7 (checked against the real 79-octet ST0 from EPRI c12test)",
)

TABLES = (GEN_CONFIG_TBL,)
