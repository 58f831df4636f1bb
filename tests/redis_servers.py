"""Real Redis servers for tests: standalone, a 3-master Cluster, and TLS.

Session-scoped pytest fixtures that start ``redis-server`` processes on free loopback ports
in a temporary directory (no persistence) and stop them at the end of the session. Import
the fixtures into a ``conftest.py`` to use them (``tests/limiter/conftest.py`` does). Tests
that need them are skipped, saying why, only when the ``redis-server`` binary is missing.

- ``redis_standalone``: one private server (tests never share the developers' Redis);
- ``redis_cluster``: three masters joined with ``redis-cli --cluster create`` (no replicas);
  ``url`` names one node, as ``REDIS_URL`` would with ``REDIS_CLUSTER=1``;
- ``redis_tls``: a TLS-only server (``--port 0 --tls-port P``) whose certificate is issued
  by a throw-away CA made here with ``cryptography``; ``ca_file`` verifies it.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
START_TIMEOUT = 15.0


@dataclass
class RedisProcess:
    port: int
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class RedisDeployment:
    """What a test needs to reach the servers: the URL and client options."""

    url: str
    processes: list[RedisProcess] = field(default_factory=list)
    cluster: bool = False
    ca_file: str = ""

    @property
    def ports(self) -> list[int]:
        return [p.port for p in self.processes]

    def client_options(self) -> dict[str, Any]:
        return {"ssl_ca_certs": self.ca_file} if self.ca_file else {}

    def client(self, **options: Any) -> redis.Redis | redis.RedisCluster:
        """A new redis-py client of the right kind for these servers."""
        options = self.client_options() | options
        if self.cluster:
            return redis.RedisCluster.from_url(self.url, **options)
        return redis.Redis.from_url(self.url, **options)


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, with_bus: bool = False) -> int:
    """A free loopback port (and port + 10000, the cluster bus, when ``with_bus``)."""
    for _ in range(200):
        port = random.randint(20_000, 44_000)
        if _bindable(port) and (not with_bus or _bindable(port + 10_000)):
            return port
    raise RuntimeError("no free loopback port found")


def _start(directory: Path, port_arg: str, port: int, *extra: str) -> RedisProcess:
    log = directory / f"redis-{port}.log"
    argv = [
        str(REDIS_SERVER),
        "--bind", "127.0.0.1",
        port_arg, str(port),
        "--dir", str(directory),
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        *extra,
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    return RedisProcess(port, process, log)


def _wait(proc: RedisProcess, ping: Callable[[], Any]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.process.poll() is not None:
            raise RuntimeError(f"redis-server on {proc.port} exited: {proc.log.read_text(errors='replace')[-2000:]}")
        try:
            ping()
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _start_ready(
    directory: Path, make: Callable[[int], tuple[str, list[str], Callable[[int], Any]]], *, with_bus: bool = False
) -> RedisProcess:
    """Start a server on a free port and wait for it; retry if another process took the port."""
    for attempt in range(3):
        port = free_port(with_bus=with_bus)
        port_arg, extra, ping = make(port)
        proc = _start(directory, port_arg, port, *extra)
        try:
            _wait(proc, functools.partial(ping, port))
            return proc
        except RuntimeError:
            stop([proc])
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ping(url: str, **options: Any) -> None:
    with redis.Redis.from_url(url, socket_timeout=1, **options) as client:
        client.ping()


def _plain(port: int) -> tuple[str, list[str], Callable[[int], Any]]:
    return "--port", [], lambda p: _ping(f"redis://127.0.0.1:{p}/0")


def stop(processes: list[RedisProcess]) -> None:
    for proc in processes:
        proc.process.terminate()
    for proc in processes:
        try:
            proc.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.process.kill()
            proc.process.wait(timeout=5)


def _need_binaries(*, cli: bool = False) -> None:
    if REDIS_SERVER is None:
        pytest.skip("the redis-server binary is not installed")
    if cli and REDIS_CLI is None:
        pytest.skip("the redis-cli binary (needed to create a cluster) is not installed")


@pytest.fixture(scope="session")
def redis_standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisDeployment]:
    _need_binaries()
    directory = tmp_path_factory.mktemp("redis-standalone")
    proc = _start_ready(directory, _plain)
    try:
        yield RedisDeployment(f"redis://127.0.0.1:{proc.port}/0", [proc])
    finally:
        stop([proc])


def _clustered(directory: Path) -> Callable[[int], tuple[str, list[str], Callable[[int], Any]]]:
    def make(port: int) -> tuple[str, list[str], Callable[[int], Any]]:
        extra = ["--cluster-enabled", "yes", "--cluster-config-file", str(directory / f"nodes-{port}.conf")]
        return "--port", extra, lambda p: _ping(f"redis://127.0.0.1:{p}/0")

    return make


def _cluster_ok(ports: list[int]) -> bool:
    for port in ports:
        with redis.Redis(port=port, socket_timeout=1) as client:
            info = client.cluster("INFO")
        if info.get("cluster_state") != "ok" or str(info.get("cluster_known_nodes")) != "3":
            return False
    return True


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisDeployment]:
    _need_binaries(cli=True)
    directory = tmp_path_factory.mktemp("redis-cluster")
    procs: list[RedisProcess] = []
    try:
        for _ in range(3):
            procs.append(_start_ready(directory, _clustered(directory), with_bus=True))
        nodes = [f"127.0.0.1:{p.port}" for p in procs]
        subprocess.run(
            [str(REDIS_CLI), "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while not _cluster_ok([p.port for p in procs]):
            if time.monotonic() > deadline:
                raise RuntimeError("Redis Cluster did not reach cluster_state:ok")
            time.sleep(0.1)
        yield RedisDeployment(f"redis://{nodes[0]}/0", procs, cluster=True)
    finally:
        stop(procs)


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1/localhost: (ca, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tater test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


@pytest.fixture(scope="session")
def redis_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisDeployment]:
    _need_binaries()
    directory = tmp_path_factory.mktemp("redis-tls")
    ca_file, cert_file, key_file = make_certificates(directory)

    def make(port: int) -> tuple[str, list[str], Callable[[int], Any]]:
        extra = [
            "--port", "0",
            "--tls-cert-file", str(cert_file),
            "--tls-key-file", str(key_file),
            "--tls-ca-cert-file", str(ca_file),
            "--tls-auth-clients", "no",
        ]  # fmt: skip
        return "--tls-port", extra, lambda p: _ping(f"rediss://127.0.0.1:{p}/0", ssl_ca_certs=str(ca_file))

    proc = _start_ready(directory, make)
    try:
        yield RedisDeployment(f"rediss://127.0.0.1:{proc.port}/0", [proc], ca_file=str(ca_file))
    finally:
        stop([proc])
