"""A small, bounded traffic generator for the sandbox's deployed model (stdlib only).

    python -m tests.sandbox.traffic URL [--shape iris|diabetes] [--seconds 3600] [--rps 4]
                                        [--bad-every 200]

POSTs rows shaped like the model's training data (``--shape``) to URL at a rate that
swings gently around ``--rps`` (so charts move), one request in ``--bad-every`` without
``inputs`` (the app answers 400: the error chart is not flat zero). Stops after
``--seconds``, or when the app has been unreachable for a minute (the sandbox was
stopped). Loopback only.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
import urllib.error
import urllib.parse
import urllib.request

#: per-feature (low, high) of the training data: iris (4 measurements in cm) and
#: scikit-learn's diabetes set (10 features, mean-centred and scaled)
SHAPES = {
    "iris": [(4.3, 7.9), (2.0, 4.4), (1.0, 6.9), (0.1, 2.5)],
    "diabetes": [(-0.1, 0.1)] * 10,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--shape", choices=sorted(SHAPES), default="iris")
    p.add_argument("--seconds", type=float, default=3600)
    p.add_argument("--rps", type=float, default=4.0)
    p.add_argument("--bad-every", type=int, default=200)
    args = p.parse_args(argv)
    host = urllib.parse.urlsplit(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        p.error(f"loopback only, not {host}")
    rng = random.Random(7)
    start = time.monotonic()
    down_since: float | None = None
    n = ok = 0
    while (now := time.monotonic()) - start < args.seconds:
        n += 1
        bad = args.bad_every > 0 and n % args.bad_every == 0
        rows = [
            [round(rng.uniform(lo, hi), 3) for lo, hi in SHAPES[args.shape]]
            for _ in range(rng.randint(1, 8))
        ]
        body = json.dumps({"rows": rows} if bad else {"inputs": rows}).encode()
        req = urllib.request.Request(
            args.url, data=body, headers={"content-type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:  # loopback, checked above
                r.read()
            ok += 1
            down_since = None
        except urllib.error.HTTPError:
            down_since = None  # the app answered (400 for the bad ones)
        except OSError:
            down_since = down_since or now
            if now - down_since > 60:
                print(f"traffic: {args.url} unreachable for 60 s; stopping after {n} requests")
                return 0
        # a slow swing (5 min period) around the mean rate, never below a quarter of it
        rate = args.rps * (1 + 0.6 * math.sin(2 * math.pi * (now - start) / 300))
        time.sleep(1 / max(rate, args.rps / 4))  # pacing the load, not waiting on a result
    print(f"traffic: done, {n} requests, {ok} answered 200")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
