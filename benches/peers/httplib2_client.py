#!/usr/bin/env python3
"""Python's httplib2 in the peers benchmark: one client, one scenario, one process.

    python3 httplib2_client.py --url http://127.0.0.1:PORT/100 --requests 20000 \
        --concurrency 8 --expect 100 [--keep]
    python3 httplib2_client.py --version

`concurrency` threads, each with its own httplib2.Http() (one Http is not safe to share
between threads), make their share of the requests one at a time, after two untimed
requests each. With --keep every (response, content) is held until all are done, as
asynchttp's pairs are in the 100,000 scenario. It prints the line the Rust children print:
CPU time and context switches are getrusage deltas around the timed part, the peak RSS is
VmHWM. run.sh runs it with Debian's python3, which has python3-httplib2.
"""

import argparse
import math
import resource
import sys
import threading
import time

import httplib2

TIMEOUT = 30  # seconds per request, as every other client
WARM_UP = 2
# No thread may wait at the start line for longer than this.
BARRIER_TIMEOUT = 120


def proc_status(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--expect", type=int)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--version", action="store_true")
    args = parser.parse_args()
    if args.version:
        print(f"httplib2 {httplib2.__version__} on Python {sys.version.split()[0]}")
        return 0

    c, n = args.concurrency, args.requests
    barrier = threading.Barrier(c + 1, timeout=BARRIER_TIMEOUT)
    latencies = [[] for _ in range(c)]
    kept = [[] for _ in range(c)]
    errors = [[] for _ in range(c)]

    def one(http):
        try:
            response, content = http.request(args.url, "GET")
        except Exception as e:  # noqa: BLE001 - any failure is counted, not raised
            return None, f"{type(e).__name__}: {e}"
        if response.status != 200 or len(content) != args.expect:
            return None, f"{response.status} with {len(content)} bytes"
        return (response, content), None

    def work(i):
        # Redirects are not followed by the other clients either; none happen here.
        http = httplib2.Http(timeout=TIMEOUT)
        http.follow_redirects = False
        # A failing server fails the timed part too; only that part is counted.
        for _ in range(WARM_UP):
            one(http)
        barrier.wait()
        share = n // c + (1 if i < n % c else 0)
        mine, kept_here, errors_here = latencies[i], kept[i], errors[i]
        for _ in range(share):
            start = time.perf_counter()
            result, error = one(http)
            mine.append((time.perf_counter() - start) * 1e6)
            if error:
                errors_here.append(error)
            elif args.keep:
                kept_here.append(result)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(c)]
    for t in threads:
        t.start()
    barrier.wait()
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    thread_count = proc_status("Threads")
    for t in threads:
        # Bounded: each request has its timeout, so a share ends within n * TIMEOUT.
        t.join()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    switches = (after.ru_nvcsw + after.ru_nivcsw) - (before.ru_nvcsw + before.ru_nivcsw)
    all_latencies = sorted(x for mine in latencies for x in mine)

    def percentile(p):
        if not all_latencies:
            return 0.0
        rank = max(1, min(len(all_latencies), math.ceil(p * len(all_latencies))))
        return all_latencies[rank - 1]

    failed = [e for mine in errors for e in mine]
    print(
        f"requests={n} errors={len(failed)} wall_us={int(wall * 1e6)} cpu_us={int(cpu * 1e6)} "
        f"switches={switches} p50_us={percentile(0.50):.1f} p99_us={percentile(0.99):.1f} "
        f"peak_rss_kib={proc_status('VmHWM')} threads={thread_count}"
    )
    if failed:
        # For the parent's list of failures; the figures above still count.
        print(f"first_error: {failed[0]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
