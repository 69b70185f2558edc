"""The command line: ``kortelijn run [--config FILE]``, ``kortelijn migrate``, for the
encryption key ``kortelijn genkey`` (print a new key) and ``kortelijn rekey`` (rewrite the
data with the current key after a rotation), and for operators ``kortelijn doctor`` (what is
wrong with this deployment) and ``kortelijn backup FILE`` (SQLite's online backup)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot import crypto, doctor
from bot.app import KorteLijn
from bot.config import ConfigError, load_settings
from bot.health import HealthServer
from bot.leader import SingleInstance
from bot.persistence.backup import BackupError, backup_sqlite, sqlite_file
from bot.persistence.database import create_engine, migrate
from bot.persistence.rekey import rekey
from bot.progress import Progress


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kortelijn", description="KorteLijn chat bot")
    parser.add_argument("--log-level", default="WARNING",
                        help="DEBUG, INFO, WARNING (default) or ERROR; logs go to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot")
    run.add_argument("--config", help="TOML configuration file (or $KORTELIJN_CONFIG)")
    run.add_argument("--console", action="store_true",
                     help="also run the console transport when a chat account is configured")
    mig = sub.add_parser("migrate", help="bring the database schema up to date")
    mig.add_argument("--config", help="TOML configuration file (or $KORTELIJN_CONFIG)")
    sub.add_parser("genkey", help="print a new random encryption key for [security] key")
    rek = sub.add_parser("rekey", help="rewrite the encrypted data with [security] key "
                                       "(after a rotation; old_keys still read)")
    rek.add_argument("--config", help="TOML configuration file (or $KORTELIJN_CONFIG)")
    bak = sub.add_parser("backup", help="copy the SQLite database into FILE, consistently, "
                                        "also while the bot runs (PostgreSQL: pg_dump, see "
                                        "docs/OPERATIONS.md)")
    bak.add_argument("file", help="the new backup file")
    bak.add_argument("--config", help="TOML configuration file (or $KORTELIJN_CONFIG)")
    doc = sub.add_parser("doctor", help="check the configuration, the database, the key and "
                                        "the chat accounts; say what to fix")
    doc.add_argument("--config", help="TOML configuration file (or $KORTELIJN_CONFIG)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "genkey":
        print(crypto.generate_key())
        return 0
    if args.command == "doctor":
        return doctor.report(asyncio.run(doctor.Doctor(args.config).run()), sys.stdout)
    try:
        settings = load_settings(args.config)
        if args.command in ("migrate", "rekey"):
            # migrating encrypts rows already there; the bot itself installs it at start
            crypto.install(crypto.keyring_from_settings(settings))
    except (ConfigError, ValueError) as error:
        print(f"kortelijn: {error}", file=sys.stderr)
        return 2
    if args.command == "backup":
        return _backup(settings.database.url, Path(args.file))
    if args.command == "migrate":
        asyncio.run(_migrate(settings.database.url))
        return 0
    if args.command == "rekey":
        progress = Progress("rekey", "rows")
        changed = asyncio.run(_rekey(settings.database.url, progress))
        progress.finish()
        print(f"kortelijn: {changed} encrypted value(s) rewritten with the current key")
        return 0
    try:
        app = KorteLijn(settings, console=True if args.console else None)
    except ConfigError as error:
        print(f"kortelijn: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(app, settings.metrics.address))
    except ConfigError as error:
        print(f"kortelijn: {error}", file=sys.stderr)
        return 2
    return 0


async def _serve(app: KorteLijn, address: str) -> None:
    """Run the bot, with health and metrics on ``address`` unless that is empty; on SQLite,
    refuse to run beside another instance."""
    try:
        database = sqlite_file(app.settings.database.url)
    except BackupError:
        database = None  # in memory: nothing to share
    instance = SingleInstance(database) if database is not None else None
    if instance is not None:
        instance.acquire()
    try:
        await _serve_health(app, address)
    finally:
        if instance is not None:
            instance.release()


async def _serve_health(app: KorteLijn, address: str) -> None:
    health = None
    if address:
        # leader or follower (one instance: the leader), and which accounts it receives
        health = HealthServer(address, app.engine, app.clock, app.transports,
                              role=lambda: app.role, receiving=app.receiving)
        try:
            await health.start()
        except OSError as error:  # the address is taken, or not this machine's
            raise ConfigError(f"metrics.address {address}: {error.strerror}") from None
    try:
        await app.run()
    finally:
        if health is not None:
            await health.stop()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def _rekey(url: str, progress: Progress | None = None) -> int:
    engine = create_engine(url)
    try:
        await migrate(engine)
        return await rekey(engine, progress)
    finally:
        await engine.dispose()


def _backup(url: str, target: Path) -> int:
    try:
        source = sqlite_file(url)
        if source is None:
            print("kortelijn: backup copies an SQLite database; back up PostgreSQL with "
                  "pg_dump (docs/OPERATIONS.md): pg_dump --format=custom --file=FILE DBNAME",
                  file=sys.stderr)
            return 2
        progress = Progress("backup", "pages")
        pages = backup_sqlite(source, target, progress)
        progress.finish()
    except BackupError as error:
        print(f"kortelijn: {error}", file=sys.stderr)
        return 2
    print(f"kortelijn: backed up {source} into {target} ({pages} pages); the encryption key "
          "is not in it: keep the key apart from the backup")
    return 0


if __name__ == "__main__":
    sys.exit(main())
