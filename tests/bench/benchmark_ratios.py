#!/usr/bin/env python3
"""Ratios from a Google Benchmark JSON file: each benchmark named <operation>_gatehouse against
every other benchmark of the same operation (<operation>_<peer>), as gatehouse's time divided by
the peer's. With repetitions, the medians are compared; without, the single runs.

Usage: benchmark_ratios.py RESULTS.json
"""
import json
import sys


def times(results):
    """Benchmark name -> real time in ns (the median aggregate when there is one)."""
    unit = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
    plain, medians = {}, {}
    for b in results["benchmarks"]:
        if b.get("error_occurred"):
            continue
        t = b["real_time"] * unit[b.get("time_unit", "ns")]
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[b["run_name"]] = t
        else:
            plain.setdefault(b.get("run_name", b["name"]), t)
    return medians or plain


def main():
    with open(sys.argv[1]) as f:
        t = times(json.load(f))
    rows = []
    for name, ours in t.items():
        if not name.endswith("_gatehouse"):
            continue
        operation = name[: -len("_gatehouse")]
        for peer_name, theirs in t.items():
            if peer_name.startswith(operation + "_") and peer_name != name:
                rows.append((operation, peer_name[len(operation) + 1:], ours, theirs))
    if not rows:
        sys.exit("benchmark_ratios: no <operation>_gatehouse benchmark with a peer")
    print(f"{'operation':<18} {'peer':<12} {'gatehouse_ns':>13} {'peer_ns':>10} {'ratio':>7}")
    for operation, peer, ours, theirs in sorted(rows):
        print(f"{operation:<18} {peer:<12} {ours:13.0f} {theirs:10.0f} {ours / theirs:7.2f}")
    print("(ratio = gatehouse time ÷ peer time, medians of the repetitions; below 1 is faster)")


if __name__ == "__main__":
    main()
