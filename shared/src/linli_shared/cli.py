"""The `linli` command: `linli token …` for development and test tokens only, `linli run` for the local stack,
`linli serve SERVICE` to serve one service or the console (uvloop, httptools, LINLI_<SERVICE>_WORKERS
workers), and for operators `linli status`, `linli outbox`, `linli dlq list|show|replay` and `linli demo`."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from linli_shared.auth import Role, issue_token
from linli_shared.ops import report as ops_report
from linli_shared.ops import verbs as ops_verbs

VAR = Path(os.environ.get("LINLI_VAR_DIR", "var"))
DEV_SECRETS = VAR / "dev-secrets.env"


def dev_secrets() -> dict[str, str]:
    """Secrets of this machine's development stack: made once under var/, never in the repo."""
    if not DEV_SECRETS.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        DEV_SECRETS.write_text(
            f"LINLI_JWT_SECRET={secrets.token_urlsafe(48)}\n"
            f"LINLI_REGISTRY_ID_HASH_KEY={secrets.token_urlsafe(48)}\n"
        )
        DEV_SECRETS.chmod(0o600)
    pairs = dict(line.split("=", 1) for line in DEV_SECRETS.read_text().splitlines() if "=" in line)
    if missing := {name: make() for name, make in LATER_SECRETS.items() if name not in pairs}:
        with DEV_SECRETS.open("a") as file:  # a var/ made before these secrets existed gains them
            file.writelines(f"{name}={value}\n" for name, value in missing.items())
    return {**pairs, **missing}


def new_signing_key_line() -> str:
    """An Ed25519 key in PEM with its line breaks written as \\n, to fit on one line of the file."""
    from linli_shared.token_keys import new_signing_key_pem

    return new_signing_key_pem().replace("\n", "\\n")


def new_code_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


LATER_SECRETS = {"LINLI_REGISTRY_SIGNING_KEY": new_signing_key_line, "LINLI_SIGN_IN_CODE_KEY": new_code_key}
"""Secrets added after the first ones: sign-in's signing key and the SMS code key."""


def jwt_secret() -> str:
    return os.environ.get("LINLI_JWT_SECRET") or dev_secrets()["LINLI_JWT_SECRET"]


def command_token(args: argparse.Namespace) -> int:
    try:
        token = issue_token(
            jwt_secret(),
            role=Role(args.role),
            district=args.district,
            community=args.community,
            subject=args.subject,
        )
    except ValueError as error:
        print(f"linli token: {error}", file=sys.stderr)
        return 2
    print(token)
    return 0


def command_run(args: argparse.Namespace) -> int:
    from linli_shared.stack import run_stack

    return run_stack(VAR, dev_secrets(), load_demo=not args.no_demo)


SERVICES = ("registry", "points", "fund", "notify")


def command_serve(args: argparse.Namespace) -> int:
    from linli_shared.processes import service_app, uvicorn_command, worker_count

    port = args.port or int(os.environ.get(f"LINLI_{args.service.upper()}_HTTP_PORT", "0"))
    if not port:
        print(f"linli serve: give --port or LINLI_{args.service.upper()}_HTTP_PORT", file=sys.stderr)
        return 2
    try:
        workers = worker_count(args.service, os.environ)
    except ValueError as error:
        print(f"linli serve: {error}", file=sys.stderr)
        return 2
    command = uvicorn_command(service_app(args.service), host=args.host, port=port, workers=workers)
    os.execv(command[0], command)  # uvicorn takes this process's place (and its signals)


def command_ops(args: argparse.Namespace) -> int:
    from linli_shared.ops.commands import run_verb

    return run_verb(args, VAR, jwt_secret)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="linli", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)
    token_help = (
        "print an HS256 token, for development and tests only: it is accepted only where "
        "LINLI_JWT_SECRET is set; in production people sign in to the registry"
    )
    token = verbs.add_parser("token", help=token_help, description=token_help)
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--district", help="district code (every role but city_admin)")
    token.add_argument("--community", help="community code (community-level roles)")
    token.add_argument("--subject", default="dev", help="who the token speaks for")
    token.set_defaults(handler=command_token)
    run = verbs.add_parser("run", help="start NATS and the services on this machine")
    run.add_argument("--no-demo", action="store_true", help="do not load the demo community")
    run.set_defaults(handler=command_run)
    serve = verbs.add_parser("serve", help="serve one service with uvicorn (uvloop, httptools)")
    serve.add_argument("service", choices=(*SERVICES, "console"))
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, help="port (default LINLI_<SERVICE>_HTTP_PORT)")
    serve.set_defaults(handler=command_serve)
    ops_verbs.register(verbs, command_ops)
    ops_report.register(verbs, jwt_secret)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
