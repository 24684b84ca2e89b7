"""nginx on 127.0.0.1 for the benchmark: generated config, certificates and files.

nginx runs in the foreground (``daemon off``) as a child of the bench, from a config
written into a temporary directory; it serves plain HTTP/1.1 on one port and TLS with
HTTP/2 on another. ``/s/<anything>`` answers a small fixed body (distinct URLs, no disk
access); ``/big.bin`` is a sparse file for the download scenario.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
SMALL_BODY = "hx bench: a small response body, the same for every path under /s/\n"

ECHO_MODULE = Path("/usr/lib/nginx/modules/ngx_http_echo_module.so")
"""Debian's libnginx-mod-http-echo: lets nginx answer after a timer (S6's latency)."""
LATENCY_HOSTS = 50
"""S6's distinct host addresses: 127.0.0.2 ... 127.0.0.51, all on loopback."""
LATENCY_S = 0.05

NGINX_CONF = """\
{load_echo}
worker_processes {workers};
daemon off;
master_process on;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 8192; multi_accept on; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    default_type application/octet-stream;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    http2_max_concurrent_streams 256;
    ssl_certificate {root}/server.pem;
    ssl_certificate_key {root}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    server {{
        listen {host}:{http_port} backlog=4096;
        listen {host}:{https_port} ssl http2 backlog=4096;
        root {root}/www;
        location /s/ {{ default_type text/plain; return 200 "{body}"; }}
    }}
{latency_server}
}}
"""

# S6: every response 50 ms late, timed by nginx (no CPU burnt on either side), on
# LATENCY_HOSTS addresses of 127.0.0.0/8 so that clients keep one pool per host.
LATENCY_SERVER = """\
    server {{
{listens}
        location /d/ {{ default_type text/plain; echo_sleep {latency}; echo "ok"; }}
    }}"""


def free_port() -> int:
    """A port the kernel says is free on 127.0.0.1 now (nginx binds it a moment later)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(root: Path) -> Path:
    """A throw-away CA (ca.pem) and a server certificate for 127.0.0.1 signed by it."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=hx bench CA",
        cwd=root,
    )
    _openssl(
        "req",
        *ec,
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
        cwd=root,
    )
    (root / "server.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        cwd=root,
    )
    return root / "ca.pem"


@dataclass
class Nginx:
    root: Path
    http_port: int
    https_port: int
    ca: Path
    big_size: int
    latency_port: int
    workers: int = 1
    proc: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    @property
    def https(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    @property
    def has_latency(self) -> bool:
        """Whether S6's latency server can run (the echo module is installed)."""
        return ECHO_MODULE.exists()

    def latency_hosts(self) -> list[str]:
        """Base URLs of S6's slow server, one per host address."""
        return [f"http://127.0.0.{2 + i}:{self.latency_port}" for i in range(LATENCY_HOSTS)]

    def start(self, workers: int = 1) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise SystemExit("nginx not found: apt-get install -y nginx-light (bench/README.md)")
        self.workers = workers
        conf = self.root / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                workers=workers,
                root=self.root,
                host=HOST,
                http_port=self.http_port,
                https_port=self.https_port,
                body=SMALL_BODY.replace("\n", "\\n"),
                load_echo=f"load_module {ECHO_MODULE};" if self.has_latency else "",
                latency_server=self._latency_server(),
            )
        )
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.root), "-c", str(conf), "-e", str(self.root / "error.log")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise SystemExit(f"nginx exited with {self.proc.returncode}: {err.strip()}")
            try:
                for port in (self.http_port, self.https_port):
                    socket.create_connection((HOST, port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("nginx did not start listening within 10 s")

    def _latency_server(self) -> str:
        if not self.has_latency:
            return ""
        listens = "\n".join(
            f"        listen {base.removeprefix('http://')} backlog=4096;"
            for base in self.latency_hosts()
        )
        return LATENCY_SERVER.format(listens=listens, latency=LATENCY_S)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown of master and workers
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def version(self) -> str:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        out = subprocess.run([binary, "-v"], capture_output=True, text=True)
        return (out.stderr or out.stdout).strip().removeprefix("nginx version: ")


def prepare(root: Path, big_size: int) -> Nginx:
    """Generate certificates, the sparse download file and the config; nginx not started."""
    root.chmod(0o755)  # nginx workers run as an unprivileged user when started as root
    (root / "www").mkdir(mode=0o755)
    (root / "tmp").mkdir(mode=0o755)
    big = root / "www" / "big.bin"
    with big.open("wb") as f:
        f.truncate(big_size)  # sparse: reads as zeros straight from the page cache
    os.chmod(big, 0o644)
    ca = make_certs(root)
    for name in ("ca.pem", "server.pem"):
        os.chmod(root / name, 0o644)
    return Nginx(root, free_port(), free_port(), ca, big_size, free_port())


def write_urls(path: Path, base: str, count: int, offset: int = 0) -> Path:
    """One distinct small-file URL per line."""
    with path.open("w") as f:
        f.writelines(f"{base}/s/{i:07d}\n" for i in range(offset, offset + count))
    return path
