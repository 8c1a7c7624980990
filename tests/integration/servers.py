"""Real servers on loopback for integration tests: processes (MLflow, Prometheus)
started on free ports and stopped by PID, and small stdlib HTTP servers in threads.

Nothing here mocks a backend. The thread servers exist where a real product would
need heavy set-up for one behaviour under test:

* ``Gateway`` — a real HTTP(S) server that checks a bearer token (401 otherwise)
  and forwards to a real upstream (MLflow). MLflow's own basic-auth app needs an
  extra auth database, an admin password change and a different CLI app; a tiny
  real token-checking server in front of the real MLflow tests the same thing:
  our token reaches the server, a wrong or missing one is refused. With
  ``tls=`` it is also the TLS terminator for the certificate tests.
* ``Silent`` — a listening socket that never answers (the timeout case).
* ``Redirector`` / ``HeaderRecorder`` — for proving that credentials do not
  follow a redirect to another origin.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import ipaddress
import json
import logging
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import pytest

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when ``condition`` is false — but fail under CI=true,
    where every real backend must be present."""
    if condition:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_until(
    check: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    alive: Callable[[], bool] = lambda: True,
    interval_s: float = 0.1,
) -> None:
    """Poll ``check`` until it is true; fail after ``timeout_s`` or when ``alive`` goes false."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if not alive():
            raise RuntimeError(f"{what}: the process exited before it was ready")
        time.sleep(interval_s)  # polling with a deadline, not sleep-and-hope
    raise TimeoutError(f"{what}: not ready within {timeout_s:.0f} s")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:  # loopback only
            return bool(200 <= r.status < 300)
    except (OSError, urllib.error.URLError):
        return False


# ------------------------------------------------------------------ processes
@dataclass
class ServerProcess:
    """A server started in its own process group; ``stop`` ends the whole group."""

    name: str
    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, grace_s: float = 15.0) -> None:
        if self.proc.poll() is not None:
            return
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)  # stragglers (workers) of the group

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def _spawn(
    name: str, argv: list[str], env: dict[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log_file:
        return subprocess.Popen(
            argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )


def mlflow_venv() -> Path:
    root = Path(
        os.environ.get("MODELDECK_BACKENDS_DIR", Path.home() / ".cache" / "modeldeck-backends")
    )
    return root / "venv-mlflow"


def start_mlflow(
    workdir: Path, *, db_path: Path | None = None, timeout_s: float = 120
) -> ServerProcess:
    """A real ``mlflow server`` (SQLite store) on a free loopback port, ready on return.

    ``db_path`` may point at a prebuilt registry file (copy it first: the server
    writes to it). The caller stops it with ``stop()``.
    """
    venv = mlflow_venv()
    exe = venv / "bin" / "mlflow"
    require(exe.exists(), f"no MLflow venv at {venv} (make backend-venvs)")
    workdir.mkdir(parents=True, exist_ok=True)
    db = db_path or workdir / "mlflow.db"
    (workdir / "artifacts").mkdir(exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    argv = [
        str(exe),
        "server",
        "--backend-store-uri",
        f"sqlite:///{db}",
        "--default-artifact-root",
        str(workdir / "artifacts"),
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log_path = workdir / "mlflow-server.log"
    proc = _spawn("mlflow", argv, env, log_path)
    server = ServerProcess("mlflow", f"http://{LOOPBACK}:{port}", proc, log_path)
    try:
        wait_until(
            lambda: http_ok(f"{server.url}/health"),
            timeout_s=timeout_s,
            what="mlflow server",
            alive=lambda: proc.poll() is None,
        )
    except BaseException:  # noqa: BLE001 - stop what started, then raise with its log
        tail = server.log_tail()
        server.stop()
        raise RuntimeError(f"mlflow server did not start:\n{tail}") from None
    return server


def start_prometheus(
    workdir: Path,
    *,
    timeout_s: float = 30,
    data_dir: Path | None = None,
    port: int | None = None,
    scrape: dict[str, str] | None = None,
    scrape_interval_s: int = 15,
) -> ServerProcess:
    """The Debian ``prometheus`` binary on a free loopback port, scraping itself.

    ``data_dir``: a prebuilt TSDB (e.g. backfilled with promtool) copied into
    ``workdir`` first; retention is then long enough to keep its history.
    ``port``: reuse a port (to restart a server at the same URL).
    ``scrape``: more jobs, ``{job: "127.0.0.1:PORT"}`` (e.g. a Ray head's metrics).
    """
    exe = shutil.which("prometheus")
    require(exe is not None, "no prometheus binary (apt-get install prometheus)")
    assert exe is not None
    workdir.mkdir(parents=True, exist_ok=True)
    if data_dir is not None and not (workdir / "data").exists():
        shutil.copytree(data_dir, workdir / "data")
    port = port or free_port()
    conf = workdir / "prometheus.yml"
    jobs = {"self": f"{LOOPBACK}:{port}", **(scrape or {})}
    conf.write_text(
        f"global:\n  scrape_interval: {scrape_interval_s}s\n"
        "scrape_configs:\n"
        + "".join(
            f"  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
            for job, target in jobs.items()
        )
    )
    argv = [
        exe,
        f"--config.file={conf}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address={LOOPBACK}:{port}",
        "--log.level=warn",
    ]
    if data_dir is not None:
        argv.append("--storage.tsdb.retention.time=3650d")
    log_path = workdir / "prometheus.log"
    proc = _spawn("prometheus", argv, dict(os.environ), log_path)
    server = ServerProcess("prometheus", f"http://{LOOPBACK}:{port}", proc, log_path)
    try:
        wait_until(
            lambda: http_ok(f"{server.url}/-/ready"),
            timeout_s=timeout_s,
            what="prometheus",
            alive=lambda: proc.poll() is None,
        )
    except BaseException:  # noqa: BLE001 - stop what started, then raise with its log
        tail = server.log_tail()
        server.stop()
        raise RuntimeError(f"prometheus did not start:\n{tail}") from None
    return server


# ------------------------------------------------------------------ thread servers
class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # TLS handshakes our client rejects end here; that is the point of those tests
        log.debug("test server: request from %s failed", client_address)


class ThreadServer:
    """Serve ``handler`` on 127.0.0.1:<free port> in a daemon thread (context manager)."""

    def __init__(
        self, handler: type[http.server.BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
    ) -> None:
        self.httpd = _QuietServer((LOOPBACK, 0), handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(
                self.httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self.port = int(self.httpd.server_address[1])
        self.scheme = "https" if tls else "http"
        self.url = f"{self.scheme}://{LOOPBACK}:{self.port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, daemon=True, kwargs={"poll_interval": 0.05}
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("test server: %s", format % args)

    @property
    def owner(self) -> Any:
        return self.server.owner  # type: ignore[attr-defined]

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


class _GatewayHandler(_Handler):
    def _forward(self, method: str) -> None:
        gw: Gateway = self.owner.gateway
        gw.requests += 1
        if gw.token is not None:
            given = self.headers.get("Authorization", "")
            if given != f"Bearer {gw.token}":
                gw.refused += 1
                body = json.dumps(
                    {"error_code": "UNAUTHENTICATED", "message": "missing or invalid bearer token"}
                ).encode()
                self._send(401, body, headers={"WWW-Authenticate": 'Bearer realm="test"'})
                return
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else None
        req = urllib.request.Request(gw.upstream + self.path, data=data, method=method)
        if self.headers.get("Content-Type"):
            req.add_header("Content-Type", self.headers["Content-Type"])
        try:
            with urllib.request.urlopen(req, timeout=30) as r:  # upstream is on loopback
                self._send(r.status, r.read(), r.headers.get("Content-Type", "text/plain"))
        except urllib.error.HTTPError as exc:
            self._send(exc.code, exc.read(), exc.headers.get("Content-Type", "text/plain"))

    def do_GET(self) -> None:
        self._forward("GET")

    def do_POST(self) -> None:
        self._forward("POST")


@dataclass
class Gateway:
    """Checks ``Authorization: Bearer <token>`` (when a token is set), forwards to ``upstream``."""

    upstream: str
    token: str | None = None
    tls: ssl.SSLContext | None = None
    requests: int = 0
    refused: int = 0
    _server: ThreadServer | None = field(default=None, repr=False)

    def __enter__(self) -> Gateway:
        self._server = ThreadServer(_GatewayHandler, tls=self.tls)
        self._server.gateway = self  # type: ignore[attr-defined]
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.__exit__(*exc)

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.port


class _RedirectHandler(_Handler):
    def do_GET(self) -> None:
        self._send(302, b"", headers={"Location": self.owner.target + self.path})


class Redirector(ThreadServer):
    """Answers every GET with ``302 Location: <target><path>``."""

    def __init__(self, target: str) -> None:
        super().__init__(_RedirectHandler)
        self.target = target.rstrip("/")


class _RecordHandler(_Handler):
    def do_GET(self) -> None:
        self.owner.seen.append({k.lower(): v for k, v in self.headers.items()})
        self._send(200, json.dumps({"ok": True, "path": self.path}).encode())


class HeaderRecorder(ThreadServer):
    """Answers 200 and records every request's headers in ``seen``."""

    def __init__(self) -> None:
        super().__init__(_RecordHandler)
        self.seen: list[dict[str, str]] = []


class Silent:
    """A loopback port that accepts TCP connections (kernel backlog) and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://{LOOPBACK}:{self.port}"

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def closed_port() -> int:
    """A loopback port with nothing listening (bound then released)."""
    return free_port()


# ------------------------------------------------------------------ certificates
@dataclass(frozen=True)
class CertSet:
    ca_pem: Path
    cert_pem: Path
    key_pem: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_pem, self.key_pem)
        return ctx


def make_certs(
    directory: Path,
    *,
    dns_names: tuple[str, ...] = ("localhost",),
    ips: tuple[str, ...] = (LOOPBACK,),
    prefix: str = "server",
) -> CertSet:
    """A throw-away CA and a server certificate it signed, as PEM files in ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Modeldeck test CA {prefix}")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (dns_names or ips)[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    out = CertSet(
        directory / f"{prefix}-ca.pem",
        directory / f"{prefix}-cert.pem",
        directory / f"{prefix}-key.pem",
    )
    out.ca_pem.write_bytes(ca.public_bytes(pem))
    out.cert_pem.write_bytes(cert.public_bytes(pem))
    out.key_pem.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return out


@contextlib.contextmanager
def tls_gateway(upstream: str, certs: CertSet, token: str | None = None) -> Iterator[Gateway]:
    with Gateway(upstream, token=token, tls=certs.server_context()) as gw:
        yield gw


# ------------------------------------------------------------------ Ray Serve
REPO_ROOT = Path(__file__).resolve().parents[2]


def backend_venv(name: str) -> Path:
    root = Path(
        os.environ.get("MODELDECK_BACKENDS_DIR", Path.home() / ".cache" / "modeldeck-backends")
    )
    return root / f"venv-{name}"


@dataclass
class RayHead:
    """A real single-node Ray head (``ray start --head --block``) and its Serve ports."""

    proc: subprocess.Popen[bytes]
    dashboard_url: str
    serve_url: str
    log_path: Path
    #: Ray's --temp-dir (short, under /tmp: unix sockets); removed by ``stop``
    temp_dir: Path | None = None
    #: ``127.0.0.1:PORT`` of the node's Prometheus endpoint (every Ray and Serve metric)
    metrics_target: str = ""

    def stop(self) -> None:
        """TERM the ``ray start --block`` process, TERM again after ~10 s, then KILL the
        process group (never ``ray stop``: it kills every Ray process on the machine)."""
        if self.proc.poll() is None:
            pgid = os.getpgid(self.proc.pid)
            for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGTERM, 15)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.proc.pid, sig)
                try:
                    self.proc.wait(timeout=wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def _serve_port(dashboard: str) -> int | None:
    try:
        with urllib.request.urlopen(f"{dashboard}/api/serve/applications/", timeout=5) as r:
            port = (json.load(r).get("http_options") or {}).get("port")
    except (OSError, ValueError):
        return None
    return port if isinstance(port, int) else None


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=2):
        return True
    return False


def start_ray(workdir: Path, *, timeout_s: float = 120) -> RayHead:
    """A Ray head with 2 CPUs on free loopback ports; ``serving/`` on the workers'
    PYTHONPATH; Serve started with its HTTP proxy on 127.0.0.1 (an empty config PUT)."""
    venv = backend_venv("ray")
    exe = venv / "bin" / "ray"
    require(exe.exists(), f"no Ray venv at {venv} (make backend-venvs)")
    # Ray puts unix sockets under its temp dir: keep the path short
    tmp = Path(tempfile.mkdtemp(prefix="mdray-", dir="/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    gcs, dash, serve_port, metrics = free_port(), free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "PYTHONPATH": str(REPO_ROOT / "serving"),
        "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    argv = [
        str(exe), "start", "--head", "--block",
        "--node-ip-address=127.0.0.1", f"--port={gcs}",
        "--num-cpus=2", "--num-gpus=0",
        f"--object-store-memory={256 * 1024 * 1024}",
        "--include-dashboard=true", "--dashboard-host=127.0.0.1", f"--dashboard-port={dash}",
        f"--metrics-export-port={metrics}",
        f"--temp-dir={tmp}", "--disable-usage-stats",
    ]  # fmt: skip
    log_path = workdir / "ray-head.log"
    proc = _spawn("ray", argv, env, log_path)
    head = RayHead(
        proc,
        f"http://{LOOPBACK}:{dash}",
        f"http://{LOOPBACK}:{serve_port}",
        log_path,
        tmp,
        metrics_target=f"{LOOPBACK}:{metrics}",
    )
    try:
        wait_until(
            lambda: http_ok(f"{head.dashboard_url}/api/serve/applications/"),
            timeout_s=timeout_s,
            what="ray head",
            alive=lambda: proc.poll() is None,
        )
        body = json.dumps(
            {"http_options": {"host": LOOPBACK, "port": serve_port}, "applications": []}
        ).encode()
        req = urllib.request.Request(
            f"{head.dashboard_url}/api/serve/applications/",
            data=body,
            method="PUT",
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as r:  # loopback only
            assert r.status == 200
        # with no app yet the proxy answers 503 on /-/healthz: ready = Serve runs with our
        # http_options and the proxy accepts connections
        wait_until(
            lambda: _serve_port(head.dashboard_url) == serve_port and _listening(serve_port),
            timeout_s=timeout_s,
            what="ray serve proxy",
            alive=lambda: proc.poll() is None,
        )
    except BaseException:  # noqa: BLE001 - stop what started, then raise with its log
        tail = head.log_tail()
        head.stop()
        raise RuntimeError(f"ray head did not start:\n{tail}") from None
    return head
