"""Prints the path of the `timesync` binary from `cargo build
--message-format=json` output on standard input: cargo says where it put
it, so CARGO_TARGET_DIR, profiles and target triples are all respected."""
import json
import sys

path = None
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    target = msg.get("target") or {}
    if msg.get("reason") == "compiler-artifact" and target.get("name") == "timesync" \
            and "bin" in target.get("kind", []) and msg.get("executable") \
            and not msg.get("profile", {}).get("test"):  # not the bin's test harness
        path = msg["executable"]
if not path:
    sys.exit("cargo built no timesync binary")
print(path)
