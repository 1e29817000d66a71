#!/usr/bin/env python3
"""Export the register facts of PyPI nibe's S1155/S1255 table (nibe/data/s1155_s1255.json) as JSON.

Facts only (NIBE number, table, PDU address, function codes, width, signedness, scale, access,
range, "not available" value, enum keys); hpmanager uses no titles or slugs from it.
Run:  python3 -m venv /tmp/nibevenv && /tmp/nibevenv/bin/pip install 'nibe==2.25.0'
      /tmp/nibevenv/bin/python3 scripts/vendor-facts/export_nibe.py > Tests/Fixtures/vendor-facts/nibe-s1155_s1255.json
The data file is read without importing the package (its connection modules need async deps).
"""
import json
import os
import sys
from importlib.metadata import version
from importlib.util import find_spec

SIZES = {"u8": (1, False), "s8": (1, True), "u16": (1, False), "s16": (1, True), "u32": (2, False), "s32": (2, True)}
# The library's "no value" limit per size (nibe/coil.py), as the raw value.
LIMIT = {"u8": 255, "s8": -128, "u16": 65535, "s16": -32768, "u32": 0xFFFFFFFF, "s32": -(2 ** 31)}
TABLE = {"0": ("coil", 1, 15), "1": ("discrete", 2, None), "3": ("input", 4, None), "4": ("holding", 3, 16)}


def fact(number: str, entry: dict) -> dict:
    table, read_fc, write_fc = TABLE[number[0]]
    words, signed = SIZES[entry["size"]]
    factor = entry.get("factor", 1)
    writable = bool(entry.get("write", False))
    return {
        "number": int(number),
        "address": int(number) % 10000 - 1,
        "table": table,
        "read_function": read_fc,
        "write_function": write_fc if writable else None,
        "size": entry["size"],
        "words": words,
        "signed": signed,
        "scale": 1 / factor,
        # 32-bit values over Modbus TCP on the S-series: read low word first, written high word first
        # (nibe/connection/modbus.py: word_swap for reads, word_swap_write forced for S-series TCP).
        "word_order": "CDAB" if words == 2 else None,
        "write_word_order": "ABCD" if words == 2 else None,
        "writable": writable,
        "min": entry["min"] / factor if "min" in entry else None,
        "max": entry["max"] / factor if "max" in entry else None,
        "unavailable": LIMIT[entry["size"]],
        "enum_keys": sorted(int(k) for k in entry.get("mappings", {})),
        "unit": entry.get("unit"),
    }


def main() -> None:
    package = find_spec("nibe").submodule_search_locations[0]
    with open(os.path.join(package, "data", "s1155_s1255.json"), encoding="utf-8") as f:
        table = json.load(f)
    facts = sorted((fact(n, e) for n, e in table.items()), key=lambda f: f["number"])
    sys.stdout.write('{"library": "nibe", "version": %s, "file": "s1155_s1255.json", "registers": [\n' % json.dumps(version("nibe")))
    sys.stdout.write(",\n".join(json.dumps(f, sort_keys=True) for f in facts))
    sys.stdout.write("\n]}\n")


if __name__ == "__main__":
    main()
