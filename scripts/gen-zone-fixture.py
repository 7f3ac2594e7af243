#!/usr/bin/env python3
"""Generates tests/fixtures/zone-offsets.tsv from the system tzdata (Python's
zoneinfo), to check src/time/zone.rs against an independent implementation:
for one zone of every distinct rule in src/time/zones_table.rs, every UTC-offset
change in 2026-2028 (the second before and the second of it) and two
samples a year. Zones whose tzdata lists one-off transitions that its
closing POSIX rule cannot express are reported and left out.

    python3 scripts/gen-zone-fixture.py > tests/fixtures/zone-offsets.tsv
"""
import re
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

table = open("src/time/zones_table.rs").read()
rules = re.findall(r'^    "([^"]*)",$', table, re.M)
zones = re.findall(r'^    \("([^"]+)", (\d+)\),$', table, re.M)

def offset(zone, t):
    return int(datetime.fromtimestamp(t, timezone.utc).astimezone(zone).utcoffset().total_seconds())

start = int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp())
end = int(datetime(2029, 1, 1, tzinfo=timezone.utc).timestamp())
seen = set()
print("# zone\tutc seconds\toffset seconds east")
for name, rule in zones:
    if rule in seen:
        continue
    zone = ZoneInfo(name)
    lines = []
    previous = offset(zone, start)
    for hour in range(start, end, 3600):
        current = offset(zone, hour + 3600)
        if current != previous:
            low, high = hour, hour + 3600  # offset(low) == previous, offset(high) == current
            while high - low > 1:
                mid = (low + high) // 2
                if offset(zone, mid) == previous:
                    low = mid
                else:
                    high = mid
            lines += [(low, previous), (high, current)]
            previous = current
    if len(lines) > 6 * 2:
        print(f"skipping {name} ({rules[int(rule)]}): {len(lines) // 2} changes in 3 years", file=sys.stderr)
        continue
    seen.add(rule)
    for year in (2026, 2027, 2028):
        for month in (1, 7):
            t = int(datetime(year, month, 15, 12, tzinfo=timezone.utc).timestamp())
            lines.append((t, offset(zone, t)))
    for t, o in sorted(lines):
        print(f"{name}\t{t}\t{o}")
