#!/usr/bin/env python3
"""Buckets an inferno `.folded` profile (scripts/profile) into two markdown tables.

"By code": each sample goes to the innermost frame that names a library or Picket module of
interest (CODE below): the code that asked for the work, its allocations, copies and system
calls included. A sample with no such frame goes to a bucket by its innermost frame (the kernel
waking threads, the allocator, the tokio runtime and its reactor).

"By task": each sample goes to the outermost Picket frame: the task it ran for (a WebSocket
connection, the push round, an API request, the sandbox, the projection follower, ...).
"""

import re
import sys
from collections import Counter

# (bucket, pattern on a frame), first match wins; checked on frames from the innermost out.
CODE = [
    ("WebSocket frames (tungstenite)", r"tungstenite|axum::extract::ws"),
    ("JSON (serde_json)", r"serde_json|serde_core::|serde::"),
    ("token checks (HMAC, SHA-2, base64)", r"\bhmac::|\bsha2::|base64::|picket_edge::token"),
    ("Redis client", r"\bredis::|combine::"),
    ("NATS client", r"async_nats|nuid::"),
    ("PostgreSQL client (sqlx)", r"sqlx_postgres|sqlx_core"),
    ("SQLite (the sandbox's store)", r"sqlite3|libsqlite|sqlx_sqlite|flume::"),
    ("HTTP (hyper, axum, reqwest)", r"\bhyper::|hyper_util|\baxum::|reqwest::|\bh2::|\bhttp::"),
    ("TLS / crypto (rustls, ring)", r"rustls|\bring::"),
    ("metrics (prometheus-client)", r"prometheus_client"),
    ("logs (tracing)", r"tracing_subscriber|tracing_core"),
    ("position pushes (hub)", r"picket_gateway::hub"),
    ("gateway: connections, limits", r"picket_gateway::"),
    ("waiting room (picket_room)", r"picket_room::"),
    ("ledger client", r"picket_ledger_client::"),
    ("ledger (node, writer, journal)", r"picket_ledger::"),
    ("ledger core", r"picket_ledger_core::"),
    ("API (picket_api)", r"picket_api::"),
    ("payments adapter", r"picket_payments::|picket_toss_wire::"),
    ("payment sandbox", r"picket_sandbox_pay::"),
    ("notifier", r"picket_notifier::"),
    ("loadtest", r"picket_loadtest::"),
]

# The buckets of samples with no frame of CODE, judged by their innermost frame.
PLUMBING_BUCKETS = [
    ("kernel: scheduling, futex, wake-ups", r"(schedule|futex|wake|finish_task_switch|idle|"
     r"select_task_rq|enqueue|dequeue|try_to_wake_up|pick_next|update_curr|__switch_to)\w*_\[k\]$"),
    ("kernel: network (TCP over loopback, epoll)", r"(tcp|inet|sock|skb|ip_|net_|loopback|"
     r"epoll|__sys_(send|recv)|netif|dev_)\w*_\[k\]$"),
    ("kernel: other (syscalls, memory, files)", r"_\[k\]$"),
    ("allocator (malloc, free, memcpy)", r"malloc|free|realloc|calloc|^_int_|mem(cpy|move|set)|"
     r"tcache|unlink_chunk|_mid_memalign|alloc_impl|grow_impl|deallocate|do_reserve|^alloc::"),
    ("tokio runtime (scheduler, reactor, timers, parking)", r"tokio::|\bmio::|do_io|parking_lot|"
     r"crossbeam|^poll|^park|^unpark|^wake"),
    ("other", r""),
]

TASK = [
    ("position push rounds", r"picket_gateway::hub"),
    ("WebSocket connections", r"picket_gateway::conn|picket_gateway::serve"),
    ("payment sandbox", r"picket_sandbox_pay::"),
    ("payments adapter", r"picket_payments::"),
    ("API requests and its followers", r"picket_api::"),
    ("ledger node / standby", r"picket_ledger::"),
    ("ledger client (commands, replies)", r"picket_ledger_client::"),
    ("notifier", r"picket_notifier::"),
    ("other gateway tasks", r"picket_gateway::"),
    ("waiting room", r"picket_room::"),
]


def frame_name(frame):
    # inferno keeps the symbol; drop the hash suffix rustc adds.
    return re.sub(r"::h[0-9a-f]{16}$", "", frame)


def by_code(frames):
    for frame in reversed(frames):
        for bucket, pattern in CODE:
            if re.search(pattern, frame):
                return bucket
    innermost = frames[-1] if frames else ""
    # The last bucket's empty pattern matches anything.
    return next(b for b, pattern in PLUMBING_BUCKETS if re.search(pattern, innermost))


def by_task(frames):
    for frame in frames:
        for bucket, pattern in TASK:
            if re.search(pattern, frame):
                return bucket
    return "no Picket frame (runtime, kernel, blocking pool)"


def table(title, counts, total):
    # scripts/profile samples the cpu-clock event, whose weight is nanoseconds of CPU.
    lines = [f"| {title} | CPU ms | share |", "|---|---|---|"]
    for bucket, weight in counts.most_common():
        lines.append(f"| {bucket} | {weight / 1e6:,.0f} | {100.0 * weight / total:.1f} % |")
    return "\n".join(lines)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: profile-buckets.py <folded>")
    code, task = Counter(), Counter()
    total = 0
    with open(sys.argv[1], encoding="utf-8", errors="replace") as folded:
        for line in folded:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            weight = int(count)
            # The first frame is the thread's name; the rest run outermost to innermost.
            frames = [frame_name(f) for f in stack.split(";")[1:]]
            code[by_code(frames)] += weight
            task[by_task(frames)] += weight
            total += weight
    if total == 0:
        sys.exit("no samples")
    print(f"{total / 1e6:,.0f} ms of CPU sampled\n")
    print(table("by code (innermost frame of a library or module)", code, total))
    print()
    print(table("by task (outermost Picket frame)", task, total))


if __name__ == "__main__":
    main()
