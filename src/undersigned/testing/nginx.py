"""A real nginx in front of `undersigned serve` processes, for the proxy tests and bench/proxy_cache.py.

The cache directives are the ones docs/deployment.md recommends; the rest (temporary
folders, a loopback port, no daemon) lets a test run nginx as a child process it starts
and stops. nginx comes from the distribution (``apt-get install nginx``); ``.ci/run``
installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

# The documented cache part (docs/deployment.md), inside a ``location``.
CACHE_DIRECTIVES = """
      proxy_cache undersigned;
      # What a page varies on (its Vary header): the language (the header, and the
      # language cookie), and whether the visitor is signed in. Other cookies (the CSRF
      # cookie, anything of other sites on the domain) don't change a shared page, so
      # nginx keys on these itself instead of storing a copy per Cookie header.
      proxy_ignore_headers Vary;
      proxy_cache_key "$scheme$host$request_uri|$http_accept_language|$cookie_django_language";
      proxy_cache_bypass $cookie_sessionid;
      proxy_no_cache $cookie_sessionid;
      # A surge on a page whose copy just expired sends one request to the servers, not
      # thousands; visitors get the previous copy (seconds old) meanwhile, and while the
      # servers are down.
      proxy_cache_lock on;
      proxy_cache_lock_timeout 5s;
      proxy_cache_background_update on;
      proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def config(
    folder: Path,
    *,
    port: int,
    upstreams: Sequence[str],
    proxy_source: str | None = None,
    cache: bool = True,
    workers: int = 1,
) -> str:
    """An nginx.conf for ``nginx -p folder``: loopback ``port`` in front of ``upstreams``.

    ``proxy_source`` makes nginx connect to the servers from that address (e.g. 127.0.0.2),
    so a test can tell requests through nginx from direct ones on one machine.
    """
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers may read the temp folder
    servers = "".join(f"      server {address};\n" for address in upstreams)
    bind = f"      proxy_bind {proxy_source};\n" if proxy_source else ""
    return f"""{user}worker_processes {workers};
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  proxy_cache_path {folder}/cache levels=1:2 keys_zone=undersigned:10m max_size=256m inactive=10m use_temp_path=off;
  upstream undersigned {{
{servers}      keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://undersigned;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
{bind}{CACHE_DIRECTIVES if cache else ""}
      add_header X-Cache-Status $upstream_cache_status always;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""


class Nginx:
    """nginx as a child process (no daemon) with its configuration in ``folder``."""

    def __init__(self, folder: Path, conf: str, port: int) -> None:
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "nginx.conf").write_text(conf)
        self.folder, self.port = folder, port
        self.process = subprocess.Popen(
            [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # everything goes to error.log (-e)
        )
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx did not start: {self.error_log()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"nginx did not listen on {port}: {self.error_log()}") from None
                time.sleep(0.05)

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # nginx's fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
