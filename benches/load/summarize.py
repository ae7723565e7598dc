#!/usr/bin/env python3
"""Medians per (server, scenario, connections) of a results.jsonl written by
benches/load/run.sh through the shared bench.sh. Runs against two servers at
once are labelled `<label>-a` and `<label>-b`; their n-th runs are added up
(requests/s summed, the worse p99 kept) and shown as `<label>`. Runs marked
invalid (disturbed by other load) are kept but counted, so a reader sees how
quiet the machine was.

usage: summarize.py results.jsonl"""
import json
import statistics
import sys
from collections import OrderedDict

runs = OrderedDict()
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line)
    runs.setdefault((r["label"], r["scenario"], r["conns"]), []).append(r)

rows = OrderedDict()
for (label, sc, conns), rs in runs.items():
    if label.endswith("-b"):
        continue
    if label.endswith("-a"):
        other = runs.get((label[:-2] + "-b", sc, conns), [])
        merged = []
        for a, b in zip(rs, other):
            merged.append({
                "rps": a["rps"] + b["rps"],
                "p99_ms": max(a["p99_ms"], b["p99_ms"]),
                "non_2xx_3xx": a.get("non_2xx_3xx", 0) + b.get("non_2xx_3xx", 0),
                "valid": a.get("valid", True) and b.get("valid", True),
            })
        rows[(label[:-2], sc, conns * 2)] = merged
    else:
        rows[(label, sc, conns)] = rs

print("| server | scenario | conns | runs (valid) | median req/s | median p99 ms | non-2xx |")
print("|---|---|---:|---:|---:|---:|---:|")
for (label, sc, conns), rs in rows.items():
    valid = [r for r in rs if r.get("valid", True)] or rs
    med = lambda k: statistics.median(r.get(k, 0) for r in valid)
    print(f"| {label} | {sc} | {conns} | {len(rs)} ({sum(1 for r in rs if r.get('valid', True))}) "
          f"| {med('rps'):,.0f} | {med('p99_ms'):.1f} | {med('non_2xx_3xx'):g} |")
