"""A real Synapse homeserver on 127.0.0.1 for the Matrix tests and the Matrix benchmark.

Synapse lives in its own virtual environment (``make synapse`` → ``.synapse-venv/``), outside
the package's, so its pinned dependencies never meet ours. :class:`Synapse` writes a generated
configuration into a temporary folder (no federation listener and no federation at all, rate
limits relaxed for tests, registration only by shared secret, SQLite), starts the server as a
process, waits for it by polling its client API with a deadline, registers users through the
shared-secret admin API, and stops or restarts it with its data kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[2]
VENV = ROOT / ".synapse-venv"
SERVER_NAME = "kortelijn.test"


def synapse_python() -> Path:
    """The Synapse venv's interpreter, built through ``make synapse`` when missing."""
    python = VENV / "bin" / "python"
    if not (VENV / ".installed").exists():
        subprocess.run(["make", "--no-print-directory", "synapse"], cwd=ROOT,  # noqa: S607
                       check=True, timeout=900)
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


#: every limit a test may hit, raised well out of reach (production: see README "On Matrix")
_RELAXED = {"per_second": 10000, "burst_count": 100000}
_RATE_LIMITS = {
    "rc_message": _RELAXED,
    "rc_registration": _RELAXED,
    "rc_login": {"address": _RELAXED, "account": _RELAXED, "failed_attempts": _RELAXED},
    "rc_joins": {"local": _RELAXED, "remote": _RELAXED},
    "rc_joins_per_room": _RELAXED,
    "rc_invites": {"per_room": _RELAXED, "per_user": _RELAXED, "per_issuer": _RELAXED},
    "rc_room_creation": _RELAXED,
    "rc_key_requests": _RELAXED,
    "rc_presence": {"per_user": _RELAXED},
    "rc_profile": _RELAXED,
}


@dataclass(frozen=True, slots=True)
class Account:
    user_id: str
    password: str
    access_token: str
    device_id: str


class Synapse:
    """One homeserver process with its configuration and data in ``folder``."""

    def __init__(self, folder: Path, *, port: int | None = None,
                 rate_limits: dict[str, object] | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server_name = SERVER_NAME
        self.shared_secret = secrets.token_hex(16)
        self._rate_limits = _RATE_LIMITS if rate_limits is None else rate_limits
        self._process: subprocess.Popen[bytes] | None = None
        self._log = folder / "synapse.out"
        self.config = folder / "homeserver.yaml"
        self._write_config()

    # --- configuration --------------------------------------------------------------------
    def _write_config(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        key = self.folder / "signing.key"
        if not key.exists():
            # signedjson's format: algorithm, version, unpadded base64 of a 32-byte seed
            seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            key.write_text(f"ed25519 a_test {seed}\n")
        log_config = self.folder / "log.yaml"
        log_config.write_text(json.dumps({
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
            "handlers": {"file": {"class": "logging.FileHandler", "formatter": "plain",
                                  "filename": str(self.folder / "homeserver.log")}},
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }))
        config = {
            "server_name": self.server_name,
            "pid_file": str(self.folder / "homeserver.pid"),
            "public_baseurl": self.url + "/",
            # the client API only: no federation listener, and no federation at all
            "listeners": [{"port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http",
                           "tls": False, "x_forwarded": False,
                           "resources": [{"names": ["client"], "compress": False}]}],
            "federation_domain_whitelist": [],
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "database": {"name": "sqlite3",
                         "args": {"database": str(self.folder / "homeserver.db")}},
            "log_config": str(log_config),
            "media_store_path": str(self.folder / "media"),
            "signing_key_path": str(key),
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "registration_shared_secret": self.shared_secret,
            "bcrypt_rounds": 4,  # fast password hashing: test accounts only
            "enable_registration": False,
            "report_stats": False,
            "enable_metrics": False,
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "user_directory": {"enabled": False},
            **self._rate_limits,
        }
        # JSON is YAML: no YAML library needed on our side
        self.config.write_text(json.dumps(config, indent=1))

    # --- life cycle -----------------------------------------------------------------------
    def start(self, timeout: float = 120.0) -> None:
        python = synapse_python()
        with self._log.open("ab") as out:
            self._process = subprocess.Popen(  # noqa: S603
                [str(python), "-m", "synapse.app.homeserver", "--config-path", str(self.config)],
                cwd=self.folder, stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Poll the client API until it answers, or fail with Synapse's own output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"Synapse exited:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/_matrix/client/versions",  # noqa: S310
                                            timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)  # polling a process with a deadline, not waiting for time
        raise TimeoutError(f"Synapse did not answer within {timeout}s:\n{self.output()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def output(self) -> str:
        tail = []
        for path in (self._log, self.folder / "homeserver.log"):
            if path.exists():
                tail.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(tail)

    # --- accounts -------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict[str, object] | None = None
                 ) -> dict[str, object]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,  # noqa: S310
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            result: dict[str, object] = json.loads(response.read())
            return result

    def register(self, localpart: str, *, admin: bool = False,
                 password: str | None = None) -> Account:
        """A new account through the shared-secret registration API (as
        ``register_new_matrix_user`` does): HMAC-SHA1 over nonce, name, password, admin."""
        password = password or secrets.token_urlsafe(12)
        nonce = str(self._request("GET", "/_synapse/admin/v1/register")["nonce"])
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        for part in (nonce, localpart, password):
            mac.update(part.encode() + b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        answer = self._request("POST", "/_synapse/admin/v1/register", {
            "nonce": nonce, "username": localpart, "password": password, "admin": admin,
            "mac": mac.hexdigest()})
        return Account(user_id=str(answer["user_id"]), password=password,
                       access_token=str(answer["access_token"]),
                       device_id=str(answer["device_id"]))

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"


def main() -> int:
    """``python -m tests.support.synapse DIR``: run a Synapse by hand, until Ctrl-C."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("var/synapse")
    server = Synapse(folder.resolve())
    server.start()
    print(f"Synapse runs at {server.url}; shared secret {server.shared_secret}")
    try:
        while server.running:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
