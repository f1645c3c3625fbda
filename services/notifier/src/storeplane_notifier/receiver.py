"""A webhook receiver for trying the notifier: `python -m storeplane_notifier.receiver --secret whsec_... --port 9000`.

It verifies every message's signature with the `standardwebhooks` package (with each `--secret`
given, so a rotation's two signatures can both be checked), prints what it got and answers 204;
a message no secret verifies gets 400. The tests run it as the real receiver process: `--record`
appends one JSON line per message, `--answers 500,500,200` scripts the statuses it answers (the
last one repeats) and `--delay` makes it slow.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Script:
    """What the receiver answers, message after message; thread-safe."""

    def __init__(self, answers: Sequence[int], delay: float) -> None:
        self.answers = list(answers) or [204]
        self.delay = delay
        self._count = 0
        self._lock = threading.Lock()

    def next_status(self) -> int:
        with self._lock:
            status = self.answers[min(self._count, len(self.answers) - 1)]
            self._count += 1
            return status


def verified_by(secrets: Sequence[str], body: bytes, headers: dict[str, str]) -> list[bool]:
    """For each secret, whether one of the message's signatures is its."""
    results = []
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers)
            results.append(True)
        except WebhookVerificationError:
            results.append(False)
    return results


def make_handler(secrets: Sequence[str], script: Script, record: Path | None) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        """Verifies, records and answers one POST."""

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = verified_by(secrets, body, headers)
            status = script.next_status() if any(verified) else 400
            if script.delay:
                time.sleep(script.delay)
            entry = received(headers, body, verified, status, self.path)
            with lock:
                print(f"{entry['type']} {entry['id']} verified={any(verified)} -> {status}", flush=True)
                print(json.dumps(entry["body"], indent=2), flush=True)
                if record is not None:
                    with record.open("a") as out:
                        out.write(json.dumps(entry) + "\n")
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the line printed per message says it all."""

    return Handler


def received(headers: dict[str, str], body: bytes, verified: list[bool], status: int, path: str) -> dict[str, Any]:
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        parsed = body.decode(errors="replace")
    return {
        "id": headers.get("webhook-id", ""),
        "timestamp": headers.get("webhook-timestamp", ""),
        "signature": headers.get("webhook-signature", ""),
        "host": headers.get("host", ""),
        "type": parsed.get("type", "") if isinstance(parsed, dict) else "",
        "body": parsed,
        "verified": verified,
        "status": status,
        "path": path,
        "received_at": time.time(),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Receive Storeplane webhooks and verify their signatures.")
    parser.add_argument("--secret", action="append", required=True, help="whsec_... (repeat for several)")
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (IPv6 too, e.g. ::1)")
    parser.add_argument("--port", type=int, default=9000, help="0: any free port (printed)")
    parser.add_argument("--record", type=Path, help="append one JSON line per message to this file")
    parser.add_argument("--answers", default="204", help="statuses to answer in turn, e.g. 500,500,200")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering")
    return parser.parse_args(argv)


class _IPv6Server(ThreadingHTTPServer):
    """The receiver on an IPv6 address (`--host ::1`), to try webhook URLs such as http://[::1]:9000/."""

    address_family = socket.AF_INET6


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    script = Script([int(a) for a in args.answers.split(",") if a.strip()], args.delay)
    server_class = _IPv6Server if ":" in args.host else ThreadingHTTPServer
    server = server_class((args.host, args.port), make_handler(args.secret, script, args.record))
    host, port = args.host, server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"listening on http://{shown}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
