#!/usr/bin/env python3
"""check_alert_names.py ALERTS_YML SCRAPE_JSON: every metric an alert's expression names is one
the exporter served in that scrape (Prometheus' own `up` aside), and every rule is complete.
Prints the problems and exits 1 when there are any."""
import json
import re
import sys

import yaml

rules_file, scrape_file = sys.argv[1], sys.argv[2]
served = {s["name"] for s in json.load(open(scrape_file))["samples"]}
problems = []
alerts = [r for g in yaml.safe_load(open(rules_file))["groups"] for r in g["rules"] if "alert" in r]
if not alerts:
    problems.append("no alert rules")
for rule in alerts:
    name = rule["alert"]
    named = set(re.findall(r"\bshmbal_[a-z0-9_]+\b", rule.get("expr", "")))
    if not named and "up{" not in rule.get("expr", ""):
        problems.append(f"{name}: its expression names no metric")
    for metric in sorted(named - served):
        problems.append(f"{name}: {metric} is not served by shmbal metrics")
    if rule.get("labels", {}).get("severity") not in ("critical", "warning"):
        problems.append(f"{name}: severity must be critical or warning")
    if not rule.get("annotations", {}).get("summary"):
        problems.append(f"{name}: no summary")
for p in problems:
    print(p)
print(f"{len(alerts)} alerts checked against {len(served)} served names")
sys.exit(1 if problems else 0)
