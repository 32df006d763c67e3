"""``stepchart serve`` and ``stepchart users``: the HTTP service from the command line.

Registered by :mod:`stepchart.cli` through ``register(subparsers)``. A ``--workflow``
folder gives the YAML documents below it whose top level is a workflow
(:func:`.options.workflow_files`). Everything heavy
(Starlette, uvicorn, the stores, the engine) is imported inside the command functions,
so ``stepchart --help`` stays as fast as before.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .options import (
    CommaList,
    add_definitions,
    add_format,
    add_option,
    add_store,
    add_workflows,
    existing_path,
    store_url,
    workflow_files,
)

__all__ = ["register"]

DEFAULT_PORT = 8080
DEFAULT_SWEEP = 15.0


def register(sub: Any) -> None:
    """Add ``serve`` and ``users`` to the ``stepchart`` command's subparsers."""
    s = sub.add_parser(
        "serve",
        help="serve the jobAction HTTP API (Starlette on uvicorn)",
        description=(
            "Serve the jobAction REST contract and job management over HTTP. With no flags: "
            "./stepchart.db, the shipped example workflows, users from ./stepchart-users.yaml, "
            f"http://127.0.0.1:{DEFAULT_PORT}."
        ),
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    add_store(
        s,
        dest="database",
        default=None,
        metavar="PATH_OR_URL",
        help="job store: a SQLite path (default ./stepchart.db), sqlite:///relative.db, sqlite:////absolute.db, "
        "postgresql://..., or memory: (opened after the port is bound)",
    )
    s.add_argument("--users", default=None, metavar="FILE", help="users file (default ./stepchart-users.yaml)")
    add_workflows(s, help="workflow file or folder to load (repeatable; default: the shipped examples)")
    add_definitions(s)
    add_option(
        s, "--templates", dest="templates", action="append", default=None, metavar="PATH", type=existing_path,
        help="job template file or folder to load (repeatable; also the project's templates:)",
    )  # fmt: skip
    s.add_argument(
        "--sweep-interval",
        type=float,
        default=DEFAULT_SWEEP,
        metavar="SECONDS",
        help=f"release expired holds every SECONDS (default {DEFAULT_SWEEP:g}; 0 turns the sweep off)",
    )
    s.add_argument("--max-body", type=int, default=None, metavar="BYTES", help="request body limit (default 65536)")
    s.add_argument(
        "--engine-threads",
        type=int,
        default=None,
        metavar="N",
        help="run engine requests in N worker threads (default: 16 on PostgreSQL; on SQLite 0, inline on the "
        "event loop: give 1 when other processes write to the same file)",
    )
    s.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="close a connection that has not sent a request head within SECONDS (408; default 10)",
    )
    s.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="answer 408 to a request whose body has not arrived within SECONDS (default 30)",
    )
    s.add_argument(
        "--max-connections",
        type=int,
        default=None,
        metavar="N",
        help="answer 503 to connections past N open ones (default: under the file descriptor limit, at most 1000)",
    )
    s.add_argument(
        "--write-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="a SQLite write waits SECONDS for another process's lock, then answers 503 with Retry-After (default 5)",
    )
    s.add_argument(
        "--item",
        default=None,
        metavar="ORG/ITEM",
        help="answer under /ORG/ITEM only (other orgId/itemId: 404); default: any, not interpreted",
    )
    s.add_argument(
        "--reads",
        choices=["all", "own"],
        default="all",
        help="all (default): any token reads every job; own: only jobs with a current step of the caller's, "
        "unless they hold jobReadAll",
    )
    s.add_argument(
        "--ssl-certfile", type=existing_path, metavar="FILE",
        help="serve HTTPS with this certificate (PEM; with --ssl-keyfile); plain HTTP without",
    )  # fmt: skip
    s.add_argument("--ssl-keyfile", type=existing_path, metavar="FILE", help="the certificate's private key (PEM)")
    s.add_argument("--no-access-log", action="store_true", help="do not log each request")
    s.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    s.set_defaults(handler=_cmd_serve)

    u = sub.add_parser("users", help="manage the users of the HTTP service (token hashes in a YAML file)")
    usub = u.add_subparsers(dest="users_command", metavar="COMMAND")
    add = usub.add_parser(
        "add",
        help="add a user with a new token; prints the token once",
        description="Add a user with a new random token. The token is printed once (on stdout, alone); "
        "the users file keeps only its SHA-256.",
    )
    add.add_argument("name", metavar="NAME")
    add_option(add, "--group", "-g", "--groups", dest="groups", action=CommaList, default=[], metavar="G[,G...]",
               help="a group of the user (repeat)")  # fmt: skip
    add_option(add, "--privilege", "-p", "--privileges", dest="privileges", action=CommaList, default=[],
               metavar="P[,P...]", help="a privilege of the user (repeat)")  # fmt: skip
    add.add_argument("--users", default=None, metavar="FILE", help="users file (default ./stepchart-users.yaml)")
    add.add_argument("--replace", action="store_true", help="give an existing user a new token (the old one stops)")
    add.set_defaults(handler=_cmd_users_add)
    ls = usub.add_parser("list", help="list users (names, groups, privileges; never tokens)")
    ls.add_argument("--users", default=None, metavar="FILE", help="users file (default ./stepchart-users.yaml)")
    add_format(ls)
    ls.set_defaults(handler=_cmd_users_list)
    u.set_defaults(handler=lambda args: _usage(u))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _users_path(args: argparse.Namespace) -> Path:
    from ..http.auth import DEFAULT_USERS_FILE

    return Path(args.users or DEFAULT_USERS_FILE)


def _cmd_users_add(args: argparse.Namespace) -> int:
    from ..http.auth import UsersFileError, add_user

    path = _users_path(args)
    try:
        token = add_user(path, args.name, args.groups, args.privileges, replace=args.replace)
    except UsersFileError as exc:
        print(f"stepchart users add: error: {exc}", file=sys.stderr)
        return 1
    print(token)
    print(
        f"added user {args.name!r} to {path}; the token above is shown only this once "
        "(the file keeps its SHA-256). Call the service with: Authorization: Bearer TOKEN",
        file=sys.stderr,
    )
    return 0


def _cmd_users_list(args: argparse.Namespace) -> int:
    from ..http.auth import UsersFileError, read_users

    path = _users_path(args)
    if not path.exists():
        print(f"stepchart users list: error: no such users file: {path}", file=sys.stderr)
        return 2
    try:
        users = read_users(path)
    except UsersFileError as exc:
        print(f"stepchart users list: error: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        from ..tools.reporting import dump_json

        listed = [{"username": u.username, "groups": list(u.groups), "privileges": list(u.privileges)} for u in users]
        dump_json(listed, sys.stdout)
        return 0
    for u in users:
        print(f"{u.username}\tgroups: {', '.join(u.groups) or '-'}\tprivileges: {', '.join(u.privileges) or '-'}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import signal
    import socket

    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError as exc:
        print(
            f"stepchart serve: error: it needs the HTTP extra ({exc.name} is missing): pip install 'stepchart[http]'",
            file=sys.stderr,
        )
        return 1

    from ..bootstrap import open_engine
    from ..errors import DefinitionError
    from ..http.app import DEFAULT_MAX_BODY, create_app
    from ..http.auth import UserDirectory, UsersFileError
    from ..http.errors import json_400_protocol
    from ..http.limits import MAX_HEAD, default_max_connections, guarded_protocol
    from ..http.logs import log_config
    from ..http.reads import ReadPolicy
    from ..http.shutdown import abort_idle_on_shutdown
    from ..io.files import data_dir
    from ..load.templates import load_templates
    from ..stores import StoreError, parse_store_url

    try:
        item = ReadPolicy.parse_item(args.item) if args.item is not None else None
    except ValueError as exc:
        print(f"stepchart serve: error: {exc}", file=sys.stderr)
        return 2
    target = store_url(args.database, environment=False)
    try:
        store = parse_store_url(target)  # a bad URL is a usage error, found before anything is bound or opened
    except StoreError as exc:
        print(f"stepchart serve: error: {exc}", file=sys.stderr)
        return 2
    tls = _tls_files(args)
    if isinstance(tls, str):
        print(f"stepchart serve: error: {tls}", file=sys.stderr)
        return 2
    users_path = _users_path(args)
    try:
        users = UserDirectory.from_file(users_path)
    except UsersFileError as exc:
        print(f"stepchart serve: error: {exc}", file=sys.stderr)
        return 1
    # the port first: a service that cannot listen must not leave a new store file behind
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP (else Nagle
    # and delayed ACKs add 40 ms to every answer written in two parts)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        print(f"stepchart serve: error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        sock.close()
        return 1
    # a file or folder that does not exist is reported by the loader, with the others in order
    workflows = workflow_files(args.workflows or [str(data_dir("examples"))], missing="keep")
    try:
        engine = open_engine(target, charts=args.charts, rules=args.rules, workflows=workflows)
    except DefinitionError as exc:
        print(f"stepchart serve: error: {exc}", file=sys.stderr)
        sock.close()
        return 1
    except (StoreError, OSError) as exc:
        print(f"stepchart serve: error: cannot start on the store {target}: {exc}", file=sys.stderr)
        sock.close()
        return 1
    except Exception as exc:  # a driver error (PostgreSQL unreachable, ...): say it plainly, no traceback
        print(f"stepchart serve: error: cannot open the store {target}: {type(exc).__name__}: {exc}", file=sys.stderr)
        sock.close()
        return 1

    try:
        templates = load_templates(args.templates or [], engine.workflows)
    except DefinitionError as exc:
        print(f"stepchart serve: error: {exc}", file=sys.stderr)
        sock.close()
        return 2
    app = create_app(
        engine,
        users,
        max_body=args.max_body or DEFAULT_MAX_BODY,
        sweep_interval=args.sweep_interval if args.sweep_interval > 0 else None,
        engine_threads=args.engine_threads,
        body_timeout=args.body_timeout,
        write_timeout=args.write_timeout,
        reads=ReadPolicy(item, args.reads),
        templates=templates,
    )
    sock.listen(2048)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if family == socket.AF_INET6 else args.host
    url = f"{'https' if tls else 'http'}://{host}:{port}"
    example = next(iter(sorted(engine.workflows)), "WORKFLOW")
    print(
        f"stepchart serve: listening on {url}\n"
        f"  store: {store.describe()}\n"
        f"  workflows: {', '.join(sorted(engine.workflows)) or 'none'}\n"
        f"  users: {users_path} ({len(users)} user{'s' if len(users) != 1 else ''}"
        f"{'; add one: stepchart users add alice --group editors --privilege jobCreate' if not len(users) else ''})\n"
        f"  sweep: {'every ' + format(args.sweep_interval, 'g') + ' s' if args.sweep_interval > 0 else 'off'}\n"
        f"  API: {url}/openapi.json   health: {url}/health\n"
        "call it:\n"
        f"  curl -X POST {url}/org/item/jobs -H 'Authorization: Bearer TOKEN' "
        f"-H 'Content-Type: application/json' -d '{{\"workflow\": \"{example}\"}}'\n"
        f"  curl -X POST {url}/org/item/jobs/J1/action -H 'Authorization: Bearer TOKEN' "
        "-H 'Content-Type: application/json' -d '{\"type\": \"Run\"}'",
        flush=True,
    )
    guarded = guarded_protocol(args.header_timeout, args.max_connections or default_max_connections())
    config = uvicorn.Config(
        app,
        log_level=args.log_level,
        log_config=log_config(args.log_level),
        access_log=not args.no_access_log,
        lifespan="on",
        timeout_graceful_shutdown=10,
        # the header timeout and connection cap, and uvicorn's own 400s in the R14 body (issue 11)
        http=abort_idle_on_shutdown(type("StepchartH11Protocol", (json_400_protocol(), guarded), {})),
        ws=_websocket_protocol(),
        h11_max_incomplete_event_size=MAX_HEAD,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal: end with 0 then.
    signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        engine.store.close()
    return 0


def _websocket_protocol() -> Any:
    """uvicorn's WebSocket protocol ("auto"), aborted on shutdown when its client never closes; "none" without one."""
    from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

    from ..http.shutdown import abort_idle_on_shutdown

    return "none" if AutoWebSocketsProtocol is None else abort_idle_on_shutdown(AutoWebSocketsProtocol)


def _tls_files(args: argparse.Namespace) -> tuple[str, str] | str | None:
    """(certificate, key) for HTTPS, None for plain HTTP, or what is wrong with them (a usage error).

    The pair is loaded once here, so a key that does not match its certificate, or a file
    that is not PEM, is refused before the port is bound.
    """
    import ssl

    cert, key = args.ssl_certfile, args.ssl_keyfile
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        return "--ssl-certfile and --ssl-keyfile go together"
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError, ValueError) as exc:
        return f"cannot use the certificate {cert} with the key {key}: {exc}"
    return str(cert), str(key)


def _exit_quietly(signum: int, frame: Any) -> None:
    raise SystemExit(0)
