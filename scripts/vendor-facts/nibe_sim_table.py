#!/usr/bin/env python3
"""Print hpsim's table of the NIBE S-series registers its hand-written profile lacks (Swift source).

Input: the register facts only (Tests/Fixtures/vendor-facts/nibe-s1155_s1255.json: number, size,
factor, write flag, range); the simulator's hand-written points are read from SimProfiles+NIBE.swift
so they are not repeated. Values are the simulator's own: a plausible reading per unit, the middle of
a parameter's range. The simulated plant is one S1255 without cascade modules or climate systems 5-8:
their read-only registers (ABSENT, by NIBE number) serve the size's "not available" limit.
Run once:  python3 scripts/vendor-facts/nibe_sim_table.py > Sources/hpsim/SimProfiles+NIBETable.swift
"""
import json
import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
ABSENT = [(30110, 30113), (30130, 30133), (30152, 30160), (30178, 30272), (30295, 30310), (30386, 30393), (30403, 30558),
          (30692, 30699), (30701, 30708), (30763, 30935), (31542, 31557), (31696, 31807), (31840, 31854), (32340, 32370)]
# A plausible physical reading per unit for read-only registers (the NIBE number varies it a little).
READING = {"°C": lambda n: 15 + n % 200 / 10, "%": lambda n: 40 + n % 30, "%RH": lambda n: 45, "Hz": lambda n: 40 + n % 20,
           "A": lambda n: 3.5, "kW": lambda n: 1.5, "kWh": lambda n: 1000 + n % 997, "h": lambda n: 2000 + n % 1009,
           "W": lambda n: 800 + n % 200, "rpm": lambda n: 1200 + n % 300, "bar": lambda n: 5.2, "min": lambda n: 30,
           "s": lambda n: 10, "days": lambda n: 1, "DM": lambda n: -100, "l/m": lambda n: 12.5, "mA": lambda n: 4500}


def main() -> None:
    facts = json.load(open(os.path.join(ROOT, "Tests/Fixtures/vendor-facts/nibe-s1155_s1255.json")))["registers"]
    source = open(os.path.join(ROOT, "Sources/hpsim/SimProfiles+NIBE.swift")).read()
    own = set(int(n) for n in re.findall(r"\b([34]\d{4})\b", source))
    # Climate-system points are written for system 1 ("30117 - (n - 1)"); systems 2-4 count down.
    own |= set(int(n) - k for n in re.findall(r"\b([34]\d{4}) - \(n - 1\)", source) for k in (1, 2, 3))
    rows = []
    for f in facts:
        n = f["number"]
        if n in own:
            continue
        factor = round(1 / f["scale"])
        if not f["writable"] and any(lo <= n <= hi for lo, hi in ABSENT):
            raw = "-"
        elif f["writable"]:
            lo, hi = (f["min"], f["max"]) if f["min"] is not None and f["max"] is not None else (0, 0)
            lo, hi = round(lo * factor), round(hi * factor)
            raw = str(lo + (hi - lo) // 2)
        else:
            reading = READING.get(f["unit"] or "", lambda n: n % 2)
            raw = str(round(reading(n) * factor))
        rows.append("%d %s %d %s" % (n, f["size"], factor, raw))
    print("// Generated once by scripts/vendor-facts/nibe_sim_table.py from the register facts; the values are the simulator's own.")
    print("extension SimProfiles {")
    print("    /// NIBE number, size (u8/s8/u16/s16/u32/s32), factor (raw = physical × factor) and raw value; \"-\": a")
    print("    /// module the simulated plant lacks (cascade heat pumps, climate systems 5-8), served as \"not available\".")
    print('    static let nibeTable = """')
    for r in rows:
        print("        " + r)
    print('        """')
    print("}")


if __name__ == "__main__":
    main()
