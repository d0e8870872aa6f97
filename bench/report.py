"""Turns bench/run.sh's measurements into bench/results.md."""
import datetime
import os
import subprocess
import sys

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
times = sys.argv[2]
commit = os.environ.get("BENCH_COMMIT") or subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print("# Benchmark results\n")
print(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
print(f"- commit: {commit}")
print(f"- machine: {os.cpu_count()} cores; server and wrk share them, on loopback")
print(f"- data: `timesync seed` with {times} times (default 200 users, 100 projects, 20 activities)")
print("- produced by `bench/run.sh`; ratio = requests/s relative to `GET /healthz` at the same connection count; load = the 1-minute load average as the measurement ended\n")
for backend in dict.fromkeys(r[0] for r in rows):
    print(f"## {backend}\n")
    ceiling = {r[2]: float(r[3]) for r in rows if r[0] == backend and r[1] == "GET /healthz"}
    for r in rows:
        if r[0] != backend:
            continue
        if r[1] == "peak RSS (KiB)":
            print(f"\nPeak server RSS: {int(r[3]) / 1024:.1f} MiB\n")
            continue
        if r[1] == "seed (s)":
            print(f"Seeding ({times} times, release build): {r[3]} s (load {r[7]})\n")
            print("| request | conns | req/s | ratio | p50 ms | p99 ms | errors | load |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            continue
        ratio = float(r[3]) / ceiling[r[2]] if ceiling.get(r[2]) else 0
        print(f"| {r[1]} | {r[2]} | {float(r[3]):.0f} | {ratio:.1%} | {r[4]} | {r[5]} | {r[6]} | {r[7]} |")
    print()
