#!/usr/bin/env python3
"""Export the register facts of PyPI idm-heatpump-api (Navigator 2.0/Pro/10 map) as JSON.

Facts only (address, function codes, width, signedness, scale, word order, access, write class,
range, "not available" values, enum keys); no names or descriptions are used by hpmanager.
Run:  python3 -m venv /tmp/idmvenv
      /tmp/idmvenv/bin/pip install --ignore-requires-python 'idm-heatpump-api==2.14.4'
      /tmp/idmvenv/bin/python3 scripts/vendor-facts/export_idm.py > Tests/Fixtures/vendor-facts/idm-heatpump-api.json
(2.14.4 declares Python >= 3.12; its register table imports and runs on Debian 12's 3.11.)
"""
import json
import sys
from importlib.metadata import version

from idm_heatpump.client import DataType, IdmModelInfo
from idm_heatpump.registers import build_register_map

WIDTH = {DataType.FLOAT: 2}
SIGNED = {DataType.FLOAT, DataType.INT16, DataType.INT8}
TYPE = {DataType.FLOAT: "float32", DataType.UCHAR: "uint8", DataType.INT8: "int8", DataType.INT16: "int16",
        DataType.UINT16: "uint16", DataType.BOOL: "bool", DataType.BITFLAG: "uint16"}
READ_FC = {"input": 4, "holding": 3, "coil": 1}


def fact(model: str, reg) -> dict:
    table = reg.register_type.value
    return {
        "address": reg.address,
        "table": table,
        "read_function": READ_FC[table],
        # The library writes every writable register with FC16 at its address (FC05 for coils).
        "write_function": (5 if table == "coil" else 16) if reg.writable else None,
        "type": TYPE[reg.datatype],
        "words": WIDTH.get(reg.datatype, 1),
        "signed": reg.datatype in SIGNED,
        "scale": reg.multiplier,
        # FLOAT: low word first (the library's decoder); single words have no word order.
        "word_order": "CDAB" if reg.datatype is DataType.FLOAT else None,
        "writable": reg.writable,
        "write_class": reg.write_class.value,
        "min": reg.min_val,
        "max": reg.max_val,
        "unavailable": sorted(float(v) for v in reg.effective_sentinel_values if isinstance(v, (int, float))),
        "enum_keys": sorted(reg.enum_options) if reg.enum_options else [],
        "models": sorted(reg.supported_models),
        "library_key": reg.name,
    }


def main() -> None:
    # Everything a fitted Navigator 10 can show: circuits A-G, 10 zone modules of 8 rooms, every option.
    info = IdmModelInfo(model_name="Navigator 10", active_heating_circuits=list("ABCDEFG"), zone_modules=10,
                        has_solar=True, has_isc=True, has_pv=True, has_cascade=True)
    registers = build_register_map(model_info=info, rooms_per_zone=8)
    facts = sorted((fact(info.model_name, r) for r in registers.values()), key=lambda f: (f["table"], f["address"]))
    # One register per line, so a new library version diffs register by register.
    sys.stdout.write('{"library": "idm-heatpump-api", "version": %s, "registers": [\n' % json.dumps(version("idm-heatpump-api")))
    sys.stdout.write(",\n".join(json.dumps(f, sort_keys=True) for f in facts))
    sys.stdout.write("\n]}\n")


if __name__ == "__main__":
    main()
