"""A throwaway PostgreSQL server for the tests and the benchmarks.

``PostgresServer.start()`` finds PostgreSQL's programs (Debian keeps them in
``/usr/lib/postgresql/<version>/bin``), installs the ``postgresql`` package through apt when
there are none (as root, as in CI: a fresh Debian machine), makes a cluster in a temporary
folder (``initdb``) and starts it on a free loopback port (``pg_ctl``). PostgreSQL refuses to
run as root, so as root the cluster belongs to the ``postgres`` user that the package creates
and its programs run through ``runuser``. ``stop()`` stops it and removes the folder.

Plain Python (no pytest), so that ``benchmarks/bench_service.py`` can start one too:
``python tests/support/pg_server.py`` starts one, prints its URL and waits for Ctrl-C.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

#: Where Debian's postgresql packages put the server's programs, one folder per major version.
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
#: The operating-system user that runs the server when we are root.
SERVER_USER = "postgres"
#: The database superuser made by initdb (trust authentication, loopback only).
SUPERUSER = "postgres"
#: Seconds allowed for installing the package (a fresh machine downloads ~50 MB).
INSTALL_TIMEOUT_S = 900
#: Seconds pg_ctl waits for the server to accept connections (generous: a loaded 2-core CI).
START_TIMEOUT_S = 120

_names = itertools.count(1)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be installed or started; the message says why and what to do."""


def _version(folder: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", folder.parent.name)) or (0,)


def find_bin_dir() -> Path | None:
    """The folder of the newest installed server's programs (initdb, pg_ctl), or None."""
    found = [p for p in map(Path, glob.glob(DEBIAN_BIN_GLOB)) if (p / "pg_ctl").is_file()]
    if found:
        return max(found, key=_version)
    on_path = shutil.which("pg_ctl")  # other systems (Homebrew, Fedora) put them on PATH
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    return None


def _run(command: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    """Run a command; its output, or PostgresUnavailable with the output's tail."""
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PostgresUnavailable(f"{' '.join(command)}: {exc}") from exc
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise PostgresUnavailable(
            f"{' '.join(command)} exited with {done.returncode}:\n{output[-3000:]}"
        )
    return output


def install() -> Path:
    """Install the ``postgresql`` package through apt (as root, or with passwordless sudo)."""
    # A CI machine may run the tests as a user with passwordless sudo rather than as root.
    sudo = (
        ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
        if os.geteuid() != 0
        and shutil.which("sudo") is not None
        and subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0
        else []
    )
    if (os.geteuid() != 0 and not sudo) or shutil.which("apt-get") is None:
        raise PostgresUnavailable(
            "PostgreSQL's server programs (initdb, pg_ctl) are not installed, and only root (or "
            "passwordless sudo) on a Debian-like system can install them: apt-get install "
            "postgresql"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = [*sudo, "apt-get", "install", "-y", "--no-install-recommends", "postgresql"]
    try:
        _run(command, INSTALL_TIMEOUT_S, env)
    except PostgresUnavailable:
        # A fresh machine may have no package lists yet (or stale ones): fetch them, try again.
        _run([*sudo, "apt-get", "update"], INSTALL_TIMEOUT_S, env)
        _run(command, INSTALL_TIMEOUT_S, env)
    found = find_bin_dir()
    if found is None:
        raise PostgresUnavailable(f"installed postgresql, but found no pg_ctl in {DEBIAN_BIN_GLOB}")
    return found


def free_port() -> int:
    """A TCP port free on the loopback address now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """A running PostgreSQL cluster in a temporary folder, listening on 127.0.0.1 only."""

    def __init__(self, bin_dir: Path, folder: Path, port: int, run_as: str | None) -> None:
        self.bin_dir = bin_dir
        self.folder = folder
        self.port = port
        self._run_as = run_as
        self._stopped = False

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    @classmethod
    def start(
        cls, *, settings: dict[str, str] | None = None, install_missing: bool = True
    ) -> PostgresServer:
        """Install (when missing and allowed), initialise and start a server.

        ``settings`` are extra server settings (``-c name=value``), e.g. ``{"fsync": "off"}``.
        """
        bin_dir = find_bin_dir()
        if bin_dir is None:
            if not install_missing:
                raise PostgresUnavailable("PostgreSQL's server programs are not installed")
            bin_dir = install()
        run_as = cls._server_user() if os.geteuid() == 0 else None
        # As root, a folder under /tmp (world-traversable), not one below a private $TMPDIR.
        folder = Path(tempfile.mkdtemp(prefix="forcemodel-pg-", dir="/tmp" if run_as else None))
        server = cls(bin_dir, folder, 0, run_as)
        try:
            if run_as:
                user = pwd.getpwnam(run_as)
                os.chown(folder, user.pw_uid, user.pw_gid)
            server._initdb()
            server._start(settings or {})
        except BaseException:
            server.stop()
            raise
        atexit.register(server.stop)  # also when the caller forgets, or pytest is interrupted
        return server

    @staticmethod
    def _server_user() -> str:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            _run(["useradd", "--system", "--no-create-home", SERVER_USER], 60)
        return SERVER_USER

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / program), *args]
        return ["runuser", "-u", self._run_as, "--", *command] if self._run_as else command

    def _initdb(self) -> None:
        _run(
            self._command(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=trust",  # loopback only, a throwaway cluster
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",  # a throwaway cluster: no need to flush its files at creation
            ),
            START_TIMEOUT_S,
        )

    def _start(self, settings: dict[str, str]) -> None:
        options = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.folder),
            # Several services (each a pool of up to 40) and the tests' own connections.
            "max_connections": "300",
            **settings,
        }
        last: PostgresUnavailable | None = None
        for _attempt in range(3):  # the free port may be taken between choosing and binding
            self.port = free_port()
            flags = " ".join(f"-c {k}={v}" for k, v in {**options, "port": str(self.port)}.items())
            try:
                _run(
                    self._command(
                        "pg_ctl",
                        "-D",
                        str(self.data),
                        "-l",
                        str(self.log),
                        "-w",
                        "-t",
                        str(START_TIMEOUT_S),
                        "-o",
                        flags,
                        "start",
                    ),
                    START_TIMEOUT_S + 30,
                )
                return
            except PostgresUnavailable as exc:
                log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                last = PostgresUnavailable(f"{exc}\nserver log:\n{log}")
                if "already in use" not in log:
                    break
        assert last is not None
        raise last

    # --- databases ------------------------------------------------------------------------

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """The SQLAlchemy URL of one of the server's databases."""
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        )

    def create_database(self, prefix: str = "forcemodel") -> str:
        """A new, empty database; its name."""
        name = f"{prefix}_{os.getpid()}_{next(_names)}"
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        """Drop the database, closing whatever connections are left on it."""
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    @contextlib.contextmanager
    def database(self, prefix: str = "forcemodel") -> Iterator[str]:
        """A fresh database's URL for the block; dropped afterwards."""
        name = self.create_database(prefix)
        try:
            yield self.url(name)
        finally:
            self.drop_database(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        if self._stopped:
            return
        self._stopped = True
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable):
                _run(self._command("pg_ctl", "-D", str(self.data), "-m", "fast", "stop"), 120)
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":
    server = PostgresServer.start()
    print(server.url(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
