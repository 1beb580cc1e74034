#!/usr/bin/env python3
"""Checks that a dormant plan and baseline.py decided the same for every user.

usage: compare.py PLAN.json BASELINE.json

The plan is read a line at a time (one decision per line), so a plan of a
million users is never loaded whole.
"""
import json
import sys


def plan_decisions(path):
    with open(path) as f:
        for line in f:
            line = line.strip().rstrip(",")
            if line.startswith('{"user"'):
                d = json.loads(line)
                yield d["user"]["id"], d["action"], d["rule"]


def main():
    plan_path, base_path = sys.argv[1], sys.argv[2]
    base = {d["id"]: (d["action"], d["rule"]) for d in json.load(open(base_path))}
    seen = 0
    differ = []
    for uid, action, rule in plan_decisions(plan_path):
        seen += 1
        if base.get(uid) != (action, rule):
            differ.append((uid, base.get(uid), (action, rule)))
    if seen != len(base):
        print(f"different user counts: plan {seen}, baseline {len(base)}")
        sys.exit(1)
    if differ:
        print(f"{len(differ)} decisions differ, for example {differ[:3]}")
        sys.exit(1)
    print(f"identical decisions for all {seen} users")


if __name__ == "__main__":
    main()
