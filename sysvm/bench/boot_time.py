#!/usr/bin/env python3
"""Boot-time and memory comparison: `pvm sysvm boot` against QEMU's microvm, same guest.

Measures, per run, the time from spawning the process to the first byte the `hello` test
guest writes to its serial port, alternating pvm and QEMU so both see the same host load.
QEMU's microvm has no i8042 to reset through, so QEMU is killed once the guest's line is
seen; pvm exits by itself when the guest resets. Peak RSS comes from wait4(2) for both and,
for pvm, also from `/usr/bin/time -f %M` as the issue asks.

Usage (from the workspace root, after `cargo build --release`):
    python3 sysvm/bench/boot_time.py [--runs 30] [--pvm target/release/pvm] [--qemu PATH]

Needs gcc (to build the guest) and, for the comparison, qemu-system-x86_64
(Debian: apt-get install qemu-system-x86). Results go to stdout as a Markdown table.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

GREETING = b"Hello from a pvm guest!"
TIMEOUT_S = 30.0


def build_guests(root, out):
    subprocess.run(["sh", os.path.join(root, "sysvm/guests/build.sh"), out], check=True)


def time_to_first_byte(command, stop_after_greeting):
    """Spawns `command`; returns seconds from spawn to its first stdout byte."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
    first = None
    output = b""
    fd = child.stdout.fileno()
    while time.perf_counter() < start + TIMEOUT_S:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        if first is None:
            first = time.perf_counter() - start
        output += chunk
        if stop_after_greeting and GREETING in output:
            child.kill()
            break
    child.communicate(timeout=TIMEOUT_S)
    if first is None or GREETING not in output:
        raise RuntimeError(f"{command[0]}: no greeting; output was {output!r}")
    return first


def time_rss_kib(command, stop_after_greeting):
    """Peak RSS in KiB as `/usr/bin/time -f %M` reports it. A QEMU run is ended by killing
    QEMU itself (time's child), so time still reports it."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".rss") as report:
        wrapper = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", report.name] + command,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
        output = b""
        while GREETING not in output:
            chunk = os.read(wrapper.stdout.fileno(), 4096)
            if not chunk:
                break
            output += chunk
        if stop_after_greeting:
            with open(f"/proc/{wrapper.pid}/task/{wrapper.pid}/children") as children:
                for pid in children.read().split():
                    os.kill(int(pid), signal.SIGKILL)
        wrapper.communicate(timeout=TIMEOUT_S)
        lines = [line for line in report.read().splitlines() if line.strip().isdigit()]
        return int(lines[-1])


def summary(values):
    return statistics.median(values), min(values), max(values)


def main():
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pvm", default=os.path.join(root, "target/release/pvm"))
    parser.add_argument("--qemu", default=shutil.which("qemu-system-x86_64"))
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="pvm-boot-time-")
    build_guests(root, work)
    kernel = os.path.join(work, "hello.elf")
    config = os.path.join(work, "hello.toml")
    with open(config, "w") as handle:
        handle.write(f'name = "hello"\nvcpus = 1\nmemory_mib = 256\nkernel = "{kernel}"\n')

    pvm_command = [args.pvm, "sysvm", "boot", "--config", config]
    qemu_command = None
    if args.qemu:
        qemu_command = [args.qemu, "-M", "microvm", "-enable-kvm", "-nodefaults", "-nographic",
                        "-serial", "stdio", "-kernel", kernel]

    # One warm-up each, so page-cache misses on the binaries do not land in the first sample.
    time_to_first_byte(pvm_command, False)
    if qemu_command:
        time_to_first_byte(qemu_command, True)

    pvm_times, qemu_times = [], []
    for _ in range(args.runs):
        pvm_times.append(time_to_first_byte(pvm_command, False))
        if qemu_command:
            qemu_times.append(time_to_first_byte(qemu_command, True))
    # wait4's ru_maxrss above includes the forked Python interpreter before exec, so peak
    # RSS is taken from /usr/bin/time (a small C program) instead.
    pvm_rss = [time_rss_kib(pvm_command, False) for _ in range(5)]
    if qemu_command:
        qemu_rss = [time_rss_kib(qemu_command, True) for _ in range(5)]

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"runs: {args.runs}, host: {os.uname().release}, date: {time.strftime('%Y-%m-%d')}, "
          f"load average after: {load}")
    print()
    print("| launcher | first serial byte, median (min-max) | peak RSS (/usr/bin/time -f %M), max of 5 |")
    print("|---|---|---|")
    median, low, high = summary(pvm_times)
    print(f"| pvm sysvm boot (memory_mib = 256) | {median * 1e3:.1f} ms "
          f"({low * 1e3:.1f}-{high * 1e3:.1f}) | {max(pvm_rss)} KiB |")
    if qemu_command:
        qemu_median, low, high = summary(qemu_times)
        print(f"| qemu -M microvm (default 128 MiB) | {qemu_median * 1e3:.1f} ms "
              f"({low * 1e3:.1f}-{high * 1e3:.1f}) | {max(qemu_rss)} KiB |")
        print()
        print(f"pvm / QEMU median: {median / qemu_median:.3f} (target <= 0.15)")
    else:
        print("\nqemu-system-x86_64 not found: QEMU column skipped", file=sys.stderr)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
