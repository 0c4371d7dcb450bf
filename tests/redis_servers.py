"""Real redis-server processes for the tests that stop, kill or cluster Redis.

`RedisServer` runs one redis-server on loopback in its own temporary folder (AOF on,
fsync always, so a SIGKILL loses nothing acknowledged) and can be stopped, killed and
started again on the same port. `RedisClusterServers` starts three of them with
cluster mode on and joins them with `redis-cli --cluster create` into a 3-master
cluster. Never the shared server at 127.0.0.1:6379.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

MISSING = "redis-server/redis-cli not found: install them (Debian: apt-get install redis-server redis-tools)"
CLUSTER_BASE_PORT = 18210  # this project's test range for cluster nodes (bus ports are +10000)


def binaries() -> tuple[str, str] | None:
    """Paths of redis-server and redis-cli, or None when either is missing."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    return (server, cli) if server and cli else None


def port_range() -> range | None:
    """The ports servers started by tests and benchmarks may use, from `YB_PORTS=LOW-HIGH`
    (a machine shared by several sessions gives each its own range); None: any free port."""
    spec = os.environ.get("YB_PORTS", "").strip()
    if not spec:
        return None
    low, _, high = spec.partition("-")
    return range(int(low), int(high or low) + 1)


def free_port() -> int:
    """A free loopback port (within `YB_PORTS` when set)."""
    allowed = port_range()
    if allowed is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    for port in random.sample(allowed, len(allowed)):
        if _port_free(port):
            return port
    raise RuntimeError(f"no free port in YB_PORTS={os.environ['YB_PORTS']}")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class RedisServer:
    """One redis-server on 127.0.0.1:`port` with its data in `folder`."""

    folder: Path
    port: int = 0
    cluster: bool = False
    bus_port: int = 0  # the cluster bus port (Redis's default: port + 10000)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start (or start again, on the same port and data); returns once it answers PING."""
        found = binaries()
        if found is None:
            raise RuntimeError(MISSING)
        self.port = self.port or free_port()
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [found[0], "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
                "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no",
                "--logfile", str(self.folder / "redis.log")]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file", str(self.folder / "nodes.conf"),
                     "--cluster-node-timeout", "2000", "--cluster-port", str(self.bus_port or self.port + 10000)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while self.cli("PING") != "PONG":
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server on port {self.port} did not start:\n{log}")
            time.sleep(0.02)
        return self

    def cli(self, *args: str) -> str:
        """Run redis-cli against this server; its output, stripped ('' on failure)."""
        found = binaries()
        assert found is not None
        done = subprocess.run([found[1], "-h", "127.0.0.1", "-p", str(self.port), *args],
                              capture_output=True, text=True, timeout=30, check=False)
        return done.stdout.strip()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server with `sig` (SIGKILL: no chance to save; the AOF has it all)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class RedisClusterServers:
    """Three cluster-enabled redis-servers on loopback joined into a 3-master cluster."""

    def __init__(self, folder: Path, base_port: int = CLUSTER_BASE_PORT):
        allowed = port_range()
        # Within YB_PORTS the cluster bus ports are taken from the range's upper half.
        bus = len(allowed) // 2 if allowed else 10000
        port = allowed.start if allowed else base_port
        while not all(_port_free(p) and _port_free(p + bus) for p in range(port, port + 3)):
            port += 3
            if allowed and port + 3 > allowed.start + bus:
                raise RuntimeError(f"no three free cluster ports in YB_PORTS={os.environ['YB_PORTS']}")
        self.nodes = [RedisServer(folder / str(p), p, cluster=True, bus_port=p + bus) for p in range(port, port + 3)]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def start(self) -> RedisClusterServers:
        found = binaries()
        if found is None:
            raise RuntimeError(MISSING)
        for node in self.nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        done = subprocess.run([found[1], "--cluster", "create", *addresses, "--cluster-replicas", "0",
                               "--cluster-yes"], capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{done.stdout}\n{done.stderr}")
        deadline = time.monotonic() + 20
        while not all("cluster_state:ok" in node.cli("CLUSTER", "INFO") for node in self.nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not reach cluster_state:ok")
            time.sleep(0.05)
        return self

    def node_ids(self) -> dict[int, str]:
        """Port -> node id."""
        return {node.port: node.cli("CLUSTER", "MYID") for node in self.nodes}

    def slot_ranges(self) -> list[tuple[int, int, int]]:
        """(first slot, last slot, port of the master serving them), from CLUSTER NODES."""
        ranges = []
        for line in self.nodes[0].cli("CLUSTER", "NODES").splitlines():
            fields = line.split()
            port = int(fields[1].split(":")[1].split("@")[0])
            for span in fields[8:]:
                if not span.startswith("["):
                    low, _, high = span.partition("-")
                    ranges.append((int(low), int(high or low), port))
        return sorted(ranges)

    def owner_of(self, slot: int) -> int:
        """The port of the master serving `slot`."""
        for low, high, port in self.slot_ranges():
            if low <= slot <= high:
                return port
        raise LookupError(f"no node serves slot {slot}")

    def stop(self) -> None:
        for node in self.nodes:
            with contextlib.suppress(Exception):
                node.stop()
