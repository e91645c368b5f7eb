#!/usr/bin/env python3
"""Scrapes URL over loopback and parses it with prometheus_client's own parser.

Prints one JSON object: {"samples": [{"name", "labels", "value", "type"}...]} so the Swift
tests check values parsed by a real Prometheus parser, not by one of ours."""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
    if response.status != 200:
        sys.exit(f"HTTP {response.status}")
    content_type = response.headers.get("Content-Type", "")
    text = response.read().decode("utf-8")
samples = []
for family in text_string_to_metric_families(text):
    for s in family.samples:
        samples.append({"name": s.name, "labels": s.labels, "value": s.value, "type": family.type})
print(json.dumps({"contentType": content_type, "samples": samples}))
