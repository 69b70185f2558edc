"""The command line: ``kortelijn run [--config FILE]`` and ``kortelijn migrate``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.app import KorteLijn
from bot.config import ConfigError, load_settings
from bot.persistence.database import create_engine, migrate


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(args.config)
    except (ConfigError, ValueError) as error:
        print(f"kortelijn: {error}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        asyncio.run(_migrate(settings.database.url))
        return 0
    try:
        app = KorteLijn(settings, console=True if args.console else None)
    except ConfigError as error:
        print(f"kortelijn: {error}", file=sys.stderr)
        return 2
    asyncio.run(app.run())
    return 0


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
