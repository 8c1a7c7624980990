"""What a demo app's metrics are at a moment: a pure function of wall-clock time, of the
app (every app has its own traffic, latency and noise, deterministic from its name) and
of what the demo cluster ran then (its timeline of traffic splits and replicas).

* traffic follows the day (a diurnal curve, peak around the app's local afternoon)
  with slow and fast noise; latency rises a little with load;
* incidents are generated per version: ``latency`` (a spike that stays: degraded),
  ``errors`` (failing), ``gap`` (the exporter stops: no data, unknown), ``blip`` (a
  short past gap), ``worse`` (a canary slightly worse than its stable version) and
  ``unhealthy`` (a replica fails its health check);
* a version listed as broken never starts: no traffic, no healthy replica.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

NAN = float("nan")
DAY = 86400.0
#: how long a simulated deploy takes unless the cluster's deploy_seconds says otherwise
DEPLOY_S = 3.0

LATENCY, ERRORS, GAP, BLIP, WORSE, UNHEALTHY = (
    "latency",
    "errors",
    "gap",
    "blip",
    "worse",
    "unhealthy",
)
#: an incident that concerns the whole app, whatever version runs
APP_WIDE = "*"


@dataclass(frozen=True, slots=True)
class Profile:
    """An app's own figures (deterministic from its cluster and name)."""

    rps: float
    p50_ms: float
    p95_ratio: float
    p99_ratio: float
    error: float
    phase: float
    noise: tuple[float, ...]


@lru_cache(maxsize=4096)
def profile(cluster: str, app: str) -> Profile:
    rng = random.Random(zlib.crc32(f"{cluster}/{app}".encode()))  # noqa: S311 - fake data
    return Profile(
        rps=10 ** rng.uniform(-0.2, 2.5),
        p50_ms=rng.uniform(6.0, 40.0),
        p95_ratio=rng.uniform(2.0, 2.8),
        p99_ratio=rng.uniform(1.4, 1.8),
        error=rng.uniform(0.0003, 0.0025),
        phase=rng.uniform(0.0, 1.0),
        noise=tuple(rng.random() for _ in range(1024)),
    )


def _smooth(noise: Sequence[float], t: float, period: float, salt: int) -> float:
    """Value noise in [0, 1), linear between knots ``period`` seconds apart."""
    x = t / period
    i = math.floor(x)
    f = x - i
    n = len(noise)
    a = noise[(i * 7 + salt) % n]
    b = noise[((i + 1) * 7 + salt) % n]
    return a + (b - a) * f


def diurnal(p: Profile, t: float) -> float:
    """Traffic through the day: 0.45 at night to 1.55 at the peak."""
    return 1.0 + 0.55 * math.sin(2 * math.pi * (t / DAY + p.phase))


@dataclass(frozen=True, slots=True)
class Moment:
    """What an app ran at one time: version → traffic share, and replicas."""

    traffic: Mapping[str, int]
    replicas: int
    #: the config was being applied (a deploy in progress: nothing serves yet)
    starting: bool = False


@dataclass(frozen=True, slots=True)
class Figures:
    """One app's (or one version's) signals at one time; NaN: no data."""

    rps: float
    p50: float
    p95: float
    p99: float
    error: float
    replicas: float


NO_DATA = Figures(NAN, NAN, NAN, NAN, NAN, NAN)


def moment_at(history: Sequence[Any], t: float, deploy_s: float = DEPLOY_S) -> Moment | None:
    """The timeline entry in force at ``t`` (``[at, {version: pct}, replicas]``, oldest
    first); ``None`` before the first deploy or after an undeploy."""
    found = None
    lo, hi = 0, len(history)
    while lo < hi:  # last entry with at <= t
        mid = (lo + hi) // 2
        if float(history[mid][0]) <= t:
            found = history[mid]
            lo = mid + 1
        else:
            hi = mid
    if found is None:
        return None
    at, traffic, replicas = float(found[0]), found[1], int(found[2])
    if not traffic:
        return None
    starting = t - at < deploy_s
    return Moment({str(k): int(v) for k, v in traffic.items()}, replicas, starting)


def _active(incident: Mapping[str, Any] | None, t: float) -> bool:
    if not incident:
        return False
    onset = float(incident.get("onset", 0.0))
    until = incident.get("until")
    return t >= onset and (until is None or t < float(until))


def _ramp(incident: Mapping[str, Any], t: float, over_s: float = 240.0) -> float:
    """0 at the onset, 1 after ``over_s``: a spike builds up over a few minutes."""
    return min(1.0, max(0.0, (t - float(incident.get("onset", 0.0))) / over_s))


def version_figures(
    p: Profile,
    t: float,
    version: str,
    share: int,
    incidents: Mapping[str, Any],
) -> Figures:
    """One version's signals at ``t`` while it gets ``share`` % of the app's traffic."""
    load = diurnal(p, t)
    slow = _smooth(p.noise, t, 900.0, 1)
    fast = _smooth(p.noise, t, 60.0, 3)
    # each version has its own small offset and noise, so versions chart apart
    salt = zlib.crc32(version.encode()) % 97
    rps = p.rps * load * (0.85 + 0.3 * slow) * (0.95 + 0.1 * fast) * share / 100.0
    rps *= 0.94 + 0.12 * _smooth(p.noise, t, 300.0, 29 + salt)
    own = 0.93 + 0.14 * p.noise[salt]
    p50 = (
        p.p50_ms
        * own
        * (1.0 + 0.18 * (load - 1.0))
        * (0.9 + 0.2 * _smooth(p.noise, t, 120.0, 5 + salt))
    )
    error = p.error * (0.6 + 0.4 * own) * (0.7 + 0.6 * _smooth(p.noise, t, 900.0, 11 + salt))
    error *= 0.9 + 0.2 * _smooth(p.noise, t, 120.0, 23 + salt)
    tail = 0.92 + 0.16 * _smooth(p.noise, t, 180.0, 13 + salt)
    p95 = p50 * p.p95_ratio * tail
    p99 = p95 * p.p99_ratio * tail
    inc = incidents.get(version)
    if isinstance(inc, Mapping) and _active(inc, t):
        kind = inc.get("kind")
        r = _ramp(inc, t)
        if kind == LATENCY:
            # the p95 climbs to about 450-600 ms (over the 300 ms degraded bound)
            target = 450.0 + 150.0 * _smooth(p.noise, t, 240.0, 17)
            factor = 1.0 + r * (max(target / p95, 1.5) - 1.0)
            p50, p95, p99 = p50 * (1 + (factor - 1) * 0.6), p95 * factor, p99 * factor * 1.1
        elif kind == ERRORS:
            error = error + r * (0.07 + 0.04 * _smooth(p.noise, t, 120.0, 19))
            p95, p99 = p95 * (1 + 0.5 * r), p99 * (1 + 0.8 * r)
        elif kind == WORSE:
            # slightly worse than stable: a third slower, about twice the errors
            p50, p95, p99 = p50 * 1.25, p95 * 1.35, p99 * 1.4
            error = error * 2.0 + 0.001
    return Figures(rps, p50, p95, p99, min(error, 1.0), NAN)


def app_figures(  # noqa: PLR0917 - the parts of the world one app's figures depend on
    cluster: str,
    app: str,
    moment: Moment | None,
    t: float,
    incidents: Mapping[str, Any],
    broken: Mapping[str, Any],
    model: str,
    *,
    version: str | None = None,
) -> Figures:
    """The app's signals at ``t`` (one version's with ``version``), as a metrics
    exporter would report them: no data before the first deploy, after an undeploy or
    in a gap; no traffic and no healthy replica while starting or when broken."""
    if moment is None:
        return NO_DATA
    app_wide = incidents.get(APP_WIDE)
    gap = isinstance(app_wide, Mapping) and app_wide.get("kind") in (GAP, BLIP)
    if gap and isinstance(app_wide, Mapping) and _active(app_wide, t):
        return NO_DATA
    if version is not None and version not in moment.traffic:
        return NO_DATA
    bad = broken.get(model) if isinstance(broken.get(model), Mapping) else None
    if moment.starting or (bad and any(v in bad for v in moment.traffic)):
        zero = 0.0
        return Figures(zero, NAN, NAN, NAN, NAN, zero)
    p = profile(cluster, app)
    healthy = float(moment.replicas)
    if isinstance(app_wide, Mapping) and app_wide.get("kind") == UNHEALTHY:
        healthy = max(0.0, healthy - 1)
    shown = [version] if version is not None else list(moment.traffic)
    parts = [version_figures(p, t, v, moment.traffic[v], incidents) for v in shown]
    rps = sum(f.rps for f in parts)
    if rps <= 0:
        return Figures(0.0, NAN, NAN, NAN, NAN, healthy)

    def mix(values: list[float]) -> float:
        return sum(v * f.rps for v, f in zip(values, parts, strict=True)) / rps

    return Figures(
        rps,
        mix([f.p50 for f in parts]),
        mix([f.p95 for f in parts]),
        mix([f.p99 for f in parts]),
        mix([f.error for f in parts]),
        healthy,
    )
