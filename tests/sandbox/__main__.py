"""The whole loop on one machine: ``python -m tests.sandbox up|stop|clean|status``.

``up`` starts, on loopback only, a real MLflow server seeded with 32 models (two of them
real scikit-learn models that serve), a real Ray head with ``serving/`` importable by its
workers, and a real Prometheus scraping the Ray node's metrics; configures a dedicated
``MODELDECK_HOME`` with the three backends (no secrets), syncs the catalog, deploys
``iris-classifier`` v1 with a 25 % canary of v2 and ``diabetes-regressor`` v2, starts a
bounded traffic generator against each, and launches the GUI on that home (on the
Health page).

With ``SANDBOX_GUI=0`` it runs headless instead: it checks that the catalog is synced,
that the deployed models answer, that ``modeldeck health --json`` shows a non-zero
request rate for each and ``modeldeck health --app iris`` the canary's two versions
apart, then stops everything and checks that nothing is left running.

Everything lives under one directory (``SANDBOX_DIR``, default ``.sandbox/`` in the
repository; Ray's own temp dir is under /tmp because of unix-socket path limits, and is
recorded and removed too). Processes are stopped by PID — never by name — and a PID is
only signalled when its start time still matches the one recorded (no PID reuse).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.integration.mlflow_support import modeldeck
from tests.integration.servers import (
    LOOPBACK,
    backend_venv,
    start_mlflow,
    start_prometheus,
    start_ray,
    wait_until,
)

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MODEL, APP, CANARY_PERCENT = "iris-classifier", "iris", 25
#: a second app, so the fleet has more than one row: (model, version, app, req/s)
SECOND = ("diabetes-regressor", "2", "diabetes", 1.5)
SCRAPE_S = 5
#: the order ``stop`` ends things in: what generates load first, the registry last
STOP_ORDER = ("gui", "traffic", "traffic-diabetes", "prometheus", "ray", "mlflow")


def sandbox_dir() -> Path:
    return Path(os.environ.get("SANDBOX_DIR") or REPO / ".sandbox").resolve()


def say(text: str) -> None:
    print(f"sandbox: {text}", flush=True)


# ------------------------------------------------------------------ processes by PID
def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (field 3 = index 0)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    fields = _stat(pid)
    if fields is None or fields[0] == "Z":  # a zombie has finished
        return None
    return int(fields[19])  # field 22: start time in clock ticks since boot


@dataclass
class Proc:
    name: str
    pid: int
    ticks: int
    url: str = ""
    log: str = ""

    @classmethod
    def of(cls, name: str, pid: int, url: str = "", log: str | Path = "") -> Proc:
        ticks = start_ticks(pid)
        if ticks is None:
            raise RuntimeError(f"{name} (PID {pid}) exited at once; see {log}")
        return cls(name, pid, ticks, url, str(log))

    def alive(self) -> bool:
        return start_ticks(self.pid) == self.ticks


def _tree(roots: Iterable[Proc]) -> list[Proc]:
    """Every live process descended from ``roots`` or in one of their sessions (each root
    leads its own session), with start times: what must be gone after a stop."""
    parent: dict[int, int] = {}
    session: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parent[int(entry.name)] = int(fields[1])
            session[int(entry.name)] = int(fields[3])
    roots = [r for r in roots if r.alive()]
    wanted = {r.pid for r in roots}
    grew = True
    while grew:
        more = {p for p, pp in parent.items() if pp in wanted or session[p] in wanted}
        grew = not more <= wanted
        wanted |= more
    found = []
    for pid in wanted:
        ticks = start_ticks(pid)
        if ticks is not None:
            found.append(Proc("child", pid, ticks))
    return found


def _signal_group(p: Proc, sig: signal.Signals) -> None:
    if p.alive():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, sig)  # started with start_new_session: its group is its PID


def _wait_gone(p: Proc, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while p.alive() and time.monotonic() < deadline:
        time.sleep(0.2)  # polling a PID with a deadline
    return not p.alive()


def stop_proc(p: Proc) -> None:
    """TERM the process group; Ray gets a second TERM (its first is sometimes ignored,
    docs/testing.md); then KILL what is left of the group."""
    if not p.alive():
        return
    grace = (10.0, 15.0) if p.name == "ray" else (15.0,)
    for wait_s in grace:
        _signal_group(p, signal.SIGTERM)
        if _wait_gone(p, wait_s):
            break
    _signal_group(p, signal.SIGKILL)
    _wait_gone(p, 10)


# ------------------------------------------------------------------ state
@dataclass
class State:
    root: str
    home: str
    procs: dict[str, Proc] = field(default_factory=dict)
    ray_temp: str = ""
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return Path(self.root) / "state.json"

    def save(self) -> None:
        doc = asdict(self)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=2))
        tmp.replace(self.path)

    @classmethod
    def load(cls, root: Path) -> State | None:
        try:
            doc = json.loads((root / "state.json").read_text())
        except (OSError, ValueError):
            return None
        procs = {k: Proc(**v) for k, v in doc.pop("procs", {}).items()}
        return cls(**doc, procs=procs)

    def add(self, p: Proc) -> None:
        self.procs[p.name] = p
        self.save()

    def running(self) -> list[Proc]:
        return [p for p in self.procs.values() if p.alive()]


def stop_all(state: State) -> list[Proc]:
    """Stop what ``state`` records, in STOP_ORDER; return whatever survived (nothing)."""
    tree = _tree(state.procs.values())
    for name in STOP_ORDER:
        if (p := state.procs.get(name)) is not None and p.alive():
            say(f"stopping {name} (PID {p.pid})")
            stop_proc(p)
    for p in tree:  # a stray child that left its group
        if p.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGKILL)
    left = [p for p in tree if not _wait_gone(p, 5)]
    if state.ray_temp:
        shutil.rmtree(state.ray_temp, ignore_errors=True)
        with contextlib.suppress(OSError):
            (Path(state.root) / "ray-tmp").unlink()
    state.procs = {}
    state.urls = {}
    state.save()
    return left


# ------------------------------------------------------------------ bringing it up
def must(proc: subprocess.CompletedProcess[str], what: str) -> str:
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


def configure_home(state: State) -> None:
    from app.domain.models import Backend, BackendKind
    from app.services.context import AppContext
    from app.services.workspace import Workspace

    home = Path(state.home)
    ctx = AppContext.build(Workspace.resolve(home))
    try:
        u = state.urls
        ctx.backends.add(
            Backend(name="sandbox-mlflow", kind=BackendKind.MLFLOW, url=u["mlflow"]),
            replace=True,
        )
        ctx.backends.add(
            Backend(
                name="sandbox-prometheus",
                kind=BackendKind.PROMETHEUS,
                url=u["prometheus"],
                options={"scrape_interval": str(SCRAPE_S)},
            ),
            replace=True,
        )
        ctx.backends.add(
            Backend(
                name="sandbox-ray",
                kind=BackendKind.RAY_SERVE,
                url=u["ray"],
                timeout_s=30,
                options={
                    "registry": "sandbox-mlflow",
                    "num_cpus": "0.1",
                    "metrics_backend": "sandbox-prometheus",
                },
            ),
            replace=True,
        )
    finally:
        ctx.close()
    settings = home / "config" / "settings.toml"
    text = settings.read_text(encoding="utf-8")
    if "[health]" not in text:  # poll often: the sandbox is for watching charts move
        settings.write_text(text.rstrip() + "\n\n[health]\npoll_seconds = 15\n", encoding="utf-8")
    window = home / "config" / "window.ini"
    if not window.exists():
        window.write_text("[General]\npage=health\n", encoding="utf-8")


def _in_thread(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``fn`` now in a thread; the returned callable joins and returns (or raises)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the joiner
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()

    def join() -> Any:
        t.join()
        if "error" in box:
            raise box["error"]
        return box["value"]

    return join


def check_prerequisites() -> None:
    missing = [
        what
        for what, ok in (
            ("the MLflow venv", (backend_venv("mlflow") / "bin" / "mlflow").exists()),
            ("the Ray venv", (backend_venv("ray") / "bin" / "ray").exists()),
            ("prometheus (apt)", shutil.which("prometheus") is not None),
        )
        if not ok
    ]
    if missing:
        raise SystemExit(
            f"sandbox: missing {', '.join(missing)}; `make sandbox` installs them (make test-deps)"
        )


def up(state: State, t0: float) -> None:
    root = Path(state.root)
    mark = lambda what: say(f"{what} ({time.monotonic() - t0:.0f} s)")  # noqa: E731

    # MLflow and Ray take 10-20 s each to start: start both at once
    join_ray = _in_thread(lambda: start_ray(root / "ray"))
    mlflow = start_mlflow(root / "mlflow")
    state.urls["mlflow"] = mlflow.url
    state.add(Proc.of("mlflow", mlflow.proc.pid, mlflow.url, mlflow.log_path))
    mark(f"MLflow {mlflow.url}")
    seeded = _in_thread(
        lambda: subprocess.run(
            [
                str(backend_venv("mlflow") / "bin" / "python"),
                str(HERE / "seed_registry.py"),
                mlflow.url,
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=root / "mlflow",
        )
    )
    head = join_ray()
    state.ray_temp = str(head.temp_dir or "")
    with contextlib.suppress(OSError):
        (root / "ray-tmp").unlink()
    if head.temp_dir:
        (root / "ray-tmp").symlink_to(head.temp_dir)
    state.urls["ray"] = head.dashboard_url
    state.urls["serve"] = head.serve_url
    state.add(Proc.of("ray", head.proc.pid, head.dashboard_url, head.log_path))
    mark(f"Ray head {head.dashboard_url} (apps on {head.serve_url})")

    # A fresh Ray head is a new cluster: the last run's series would linger in every
    # query for Prometheus's 5-minute lookback (a restarted Prometheus writes no
    # staleness markers for them), showing "2 / 1" replicas. Start from an empty TSDB.
    shutil.rmtree(root / "prometheus" / "data", ignore_errors=True)
    prom = start_prometheus(
        root / "prometheus",
        scrape={"ray": head.metrics_target},
        scrape_interval_s=SCRAPE_S,
    )
    state.urls["prometheus"] = prom.url
    state.add(Proc.of("prometheus", prom.proc.pid, prom.url, prom.log_path))
    mark(f"Prometheus {prom.url}, scraping Ray's metrics at {head.metrics_target}")

    seed = seeded()
    (root / "mlflow" / "seed.log").write_text(seed.stdout + seed.stderr)
    if seed.returncode != 0:
        raise RuntimeError(f"seeding MLflow failed:\n{seed.stderr[-3000:]}")
    lines = [line.split() for line in seed.stdout.splitlines()]
    written = len({w[1] for w in lines if len(w) > 1 and w[0] == "model"})
    kept = len({w[1] for w in lines if len(w) > 1 and w[0] == "exists"})
    mark(f"MLflow seeded: {written} models written, {kept} kept from the last run")

    home = Path(state.home)
    configure_home(state)
    sync = json.loads(must(modeldeck(home, "sync", "--full", "--json"), "modeldeck sync"))
    mark(f"catalog synced: {json.dumps(sync)[:200]}")

    must(
        modeldeck(home, "deploy", MODEL, "1", "--target", "sandbox-ray", "--app", APP, "--yes"),
        f"modeldeck deploy {MODEL} 1",
    )
    mark(f"deployed {MODEL} v1 as '{APP}' on {head.serve_url}/{APP}")
    must(
        modeldeck(
            home,
            "canary",
            APP,
            "--target",
            "sandbox-ray",
            "--version",
            "2",
            "--percent",
            str(CANARY_PERCENT),
            "--yes",
        ),
        f"modeldeck canary {APP} v2",
    )
    mark(f"canary: {CANARY_PERCENT} % of '{APP}' traffic to v2")
    model2, version2, app2, rps2 = SECOND
    must(
        modeldeck(
            home, "deploy", model2, version2, "--target", "sandbox-ray", "--app", app2, "--yes"
        ),
        f"modeldeck deploy {model2} {version2}",
    )
    mark(f"deployed {model2} v{version2} as '{app2}' on {head.serve_url}/{app2}")

    minutes = float(os.environ.get("SANDBOX_TRAFFIC_MINUTES", "60"))
    for proc_name, app, shape, rps in (
        ("traffic", APP, "iris", 4.0),
        (f"traffic-{app2}", app2, app2, rps2),
    ):
        url = f"{head.serve_url}/{app}"
        log = root / f"{proc_name}.log"
        with log.open("ab") as out:
            traffic = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.sandbox.traffic",
                    url,
                    "--shape",
                    shape,
                    "--rps",
                    str(rps),
                    "--seconds",
                    str(minutes * 60),
                ],
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        state.add(Proc.of(proc_name, traffic.pid, url, log))
        mark(f"traffic to '{app}' started (≈{rps:g} requests/s for {minutes:.0f} min)")


def print_summary(state: State) -> None:
    print("\nThe sandbox is up (everything on 127.0.0.1):")
    for p in state.procs.values():
        print(f"  {p.name:<11} PID {p.pid:<8} {p.url}")
    for app in (APP, SECOND[2]):
        print(f"  {'serving':<11} {'':<12} {state.urls.get('serve', '')}/{app}")
    print(f"  MODELDECK_HOME={state.home}")
    print(f"  state and logs: {state.root}")
    print("Stop it with `make sandbox-stop`; remove its state with `make sandbox-clean`.\n")


# ------------------------------------------------------------------ headless checks
def headless_checks(state: State, t0: float) -> float:
    """Catalog synced, model answers, health shows traffic. Returns seconds to first rps."""
    home = Path(state.home)
    with urllib.request.urlopen(
        f"{state.urls['mlflow']}/api/2.0/mlflow/registered-models/search?max_results=1000",
        timeout=30,
    ) as r:  # loopback only
        in_registry = {m["name"] for m in json.load(r).get("registered_models", [])}
    listed = modeldeck(home, "models", "list", "--json", "--limit", "100000")
    cached = {m["name"] for m in json.loads(must(listed, "models list"))["models"]}
    if cached != in_registry:
        raise RuntimeError(f"catalog not synced: registry {len(in_registry)}, cache {len(cached)}")
    say(f"check: the cache holds all {len(cached)} registry models")

    model2, _version2, app2, _rps2 = SECOND
    for app, model, rows in (
        (APP, MODEL, [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]),
        (app2, model2, [[0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, -0.002, 0.02, -0.02]] * 2),
    ):
        req = urllib.request.Request(
            f"{state.urls['serve']}/{app}",
            data=json.dumps({"inputs": rows}).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=60) as r:  # loopback only
            answer = json.load(r)
        if len(answer.get("predictions", [])) != 2 or answer.get("model") != model:
            raise RuntimeError(f"{app} answered oddly: {answer}")
        say(f"check: {app} answers {answer['predictions']} (version {answer['version']})")

    seen: dict[str, dict[str, Any]] = {}

    def traffic_visible() -> bool:
        doc = json.loads(must(modeldeck(home, "health", "--json", "--window", "1h"), "health"))
        seen.update({d["app"]: d for d in doc["deployments"] if d["app"] in (APP, app2)})
        return all((seen.get(a, {}).get("figures", {}).get("rps") or 0) > 0 for a in (APP, app2))

    wait_until(
        traffic_visible,
        timeout_s=300,
        what=f"non-zero request rates for {APP} and {app2}",
        interval_s=2,
    )
    first_chart = time.monotonic() - t0
    for app in (APP, app2):
        figures = {k: round(v, 3) for k, v in seen[app]["figures"].items() if v is not None}
        say(f"check: {app} health {seen[app]['status']} {figures}")

    per_version: dict[str, float] = {}

    def canary_split() -> bool:
        """The canary's versions apart, from the serving app's own counters."""
        doc = json.loads(
            must(modeldeck(home, "health", "--app", APP, "--series", "--json"), "health --app")
        )
        per_version.clear()
        for s in doc["series"].get("rps", []):
            values = [v for _t, v in s["points"] if v is not None]
            if values and s["labels"].get("model_version"):
                per_version[s["labels"]["model_version"]] = values[-1]
        return set(per_version) == {"1", "2"} and all(per_version.values())

    wait_until(canary_split, timeout_s=300, what=f"per-version rates for {APP}", interval_s=2)
    split = ", ".join(f"v{v} {r:.2f} req/s" for v, r in sorted(per_version.items()))
    say(f"check: {APP} per version ({CANARY_PERCENT} % canary): {split}")
    return first_chart


# ------------------------------------------------------------------ commands
def cmd_up(_args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    root = sandbox_dir()
    gui = os.environ.get("SANDBOX_GUI", "1") not in ("0", "false", "no")
    check_prerequisites()
    root.mkdir(parents=True, exist_ok=True)
    state = State.load(root)
    servers = ("mlflow", "ray", "prometheus")
    if state is not None and all(n in state.procs and state.procs[n].alive() for n in servers):
        say(f"already running (state in {root})")
    else:
        if state is not None and state.running():
            gone = [n for n in servers if n not in state.procs or not state.procs[n].alive()]
            say(f"{', '.join(gone)} had exited: restarting the sandbox")
            stop_all(state)
        state = State(str(root), str(root / "home"))
        state.save()
        try:
            up(state, t0)
        except BaseException as exc:  # noqa: BLE001 - report, stop everything, exit 1
            say(f"FAILED: {exc}")
            for p in state.procs.values():
                if p.log and Path(p.log).exists():
                    tail = Path(p.log).read_text(errors="replace").splitlines()[-15:]
                    print(f"--- {p.name} log ({p.log}):\n" + "\n".join(tail))
            stop_all(state)
            return 1
        say(f"up in {time.monotonic() - t0:.0f} s")
    print_summary(state)
    if not gui:
        try:
            first = headless_checks(state, t0)
            say(f"time from command to first chart data: {first:.0f} s")
        except BaseException as exc:  # noqa: BLE001 - report, stop everything, exit 1
            say(f"FAILED: {exc}")
            stop_all(state)
            return 1
        left = stop_all(state)
        if left:
            say(f"FAILED: still running after stop: {[p.pid for p in left]}")
            return 1
        say("stopped; nothing left running")
        return 0
    return launch_gui(state)


def launch_gui(state: State) -> int:
    env = {**os.environ, "MODELDECK_HOME": state.home}
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM")):
        say(
            "no display here: the sandbox keeps running; open it from a desktop session "
            f"with `MODELDECK_HOME={state.home} make run`"
        )
        return 0
    gui = subprocess.Popen([sys.executable, "-m", "app"], env=env, cwd=REPO)
    state.add(Proc.of("gui", gui.pid))
    say("Modeldeck is open on the sandbox (Health page); closing it leaves the sandbox up")
    return gui.wait()


def cmd_stop(_args: argparse.Namespace) -> int:
    state = State.load(sandbox_dir())
    if state is None or not state.procs:
        say("nothing to stop")
        return 0
    left = stop_all(state)
    if left:
        say(f"still running after stop: {[p.pid for p in left]}")
        return 1
    say("stopped; nothing left running")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    rc = cmd_stop(args)
    root = sandbox_dir()
    if rc == 0 and root.exists():
        shutil.rmtree(root)
        say(f"removed {root}")
    return rc


def cmd_status(_args: argparse.Namespace) -> int:
    state = State.load(sandbox_dir())
    if state is None or not state.running():
        say("not running")
        return 1
    print_summary(state)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn in (("up", cmd_up), ("stop", cmd_stop), ("clean", cmd_clean)):
        sub.add_parser(name).set_defaults(fn=fn)
    sub.add_parser("status").set_defaults(fn=cmd_status)
    args = parser.parse_args(argv)
    assert LOOPBACK == "127.0.0.1"
    return int(args.fn(args))


if __name__ == "__main__":
    raise SystemExit(main())
