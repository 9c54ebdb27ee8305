"""CPU per survey page (open + submit) in one process, without a server or network.

    .venv/bin/python benchmarks/cpu_per_page.py [--repo CHECKOUT] [--participants 40]

Seeds a scratch PostgreSQL database like `load_submit.py`, then walks every participant
through the baseline with Django's test client in this process and prints the CPU seconds
(`time.process_time`) per page. With `--repo` pointing at another checkout (e.g. a
`git worktree` of an older commit) it measures that code on the same machine at the same time,
so two versions can be compared without the machine's load in between deciding the answer.
The baseline printed beside it is the trivial `/ops/ping/` view through the same middleware.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--participants", type=int, default=40)
    args = parser.parse_args()
    repo = args.repo.resolve()
    sys.path[:0] = [str(repo / "benchmarks"), str(repo / "src")]
    import loadkit

    loadkit.REPO = repo
    stack = loadkit.Stack(participants=args.participants + 1, workers=1, port=0)
    stack.env["PYTHONPATH"] = str(repo / "src")
    stack.start_server = lambda: None  # type: ignore[method-assign]
    with stack:
        os.environ.update(stack.env)
        import django

        django.setup()
        from django.test import Client

        client = Client(HTTP_HOST=loadkit.HOST)

        def walk(token: str) -> int:
            pages, path = 0, f"/s/{token}/"
            for _ in range(200):
                got: Any = client.get(path)
                if got.status_code in (301, 302):
                    path = got["Location"]
                    if path.endswith("/done/"):
                        break
                    continue
                hidden, answers = loadkit.page_form(got.content.decode())
                if "nonce" not in hidden:
                    break
                posted: Any = client.post(path, {**answers, **hidden, "action": "next"})
                if posted.status_code != 302:
                    raise SystemExit(f"page {path} answered {posted.status_code}")
                pages, path = pages + 1, posted["Location"]
            return pages

        walk(stack.tokens[0]["token"])  # templates, URL conf and page plans warm
        started = time.process_time()
        pages = sum(walk(token["token"]) for token in stack.tokens[1:])
        per_page = (time.process_time() - started) / pages
        started = time.process_time()
        for _ in range(2000):
            client.get("/ops/ping/")
        per_ping = (time.process_time() - started) / 2000
    print(f"code: {repo}")
    print(f"pages: {pages} ({pages / args.participants:.0f} per participant)")
    print(f"CPU per page (GET + POST): {per_page * 1000:.2f} ms")
    print(f"CPU per trivial request (/ops/ping/): {per_ping * 1000:.2f} ms")
    print(f"ratio: one page costs {per_page / per_ping:.1f} trivial requests")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
