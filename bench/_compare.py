"""bench/compare: this tree's rush against an older commit's, on the same machine in the same
minutes (issue 23's bars are relative: this machine's speed drifts by up to half from one minute
to the next, so figures taken an hour apart compare nothing).

The baseline (a git ref, 43e3101 by default) is checked out in a temporary `git worktree` with a
.venv of its own, made by its own scripts/bootstrap; then `python -m bench rush` runs in each tree
in turn, N pairs, the order flipped from one pair to the next (baseline first, then candidate first)
so that a machine slowing down or speeding up during the runs weighs on both sides alike. Then
rpc_tax and catalog, once per side (--also to choose). The worktree is removed afterwards, whatever happened.

Writes one JSON file (--out): every run's enrolments/s, p99 and CPU per enrolment, the machine's
load and busy CPU during the run; the medians of each side and their ratios, candidate/baseline,
against the issue's bars. Every subprocess has a timeout; the whole run a budget (--budget)."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "43e3101"
# candidate/baseline of the medians, as issue 23 asks: rate at least, p99 and CPU at most
BARS = {"enrolments_per_s": (">=", 1.5), "p99_ms": ("<=", 0.65), "cpu_ms_per_enrolment": ("<=", 0.65)}
RUN_TIMEOUT = {"full": 900, "quick": 300}
ALSO = ("rpc_tax", "catalog")  # issue 23: reported in the same runs (catalog keeps its own bars)
SETUP_TIMEOUT = 1200  # the baseline's .venv: pip install from the lock (a cached wheel each, normally)


class OutOfTime(Exception):
    pass


class Clock:
    """The budget of the whole comparison: each subprocess gets its own timeout, never more than
    what is left."""

    def __init__(self, budget):
        self.deadline = time.monotonic() + budget

    def timeout(self, wanted):
        left = self.deadline - time.monotonic()
        if left < 30:
            raise OutOfTime(f"the budget is spent ({round(left)} s left)")
        return min(wanted, left)


def git(*args, timeout=120):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=True)


def clean_env():
    """The environment a tree's bench runs in: nothing pointing at the other tree's packages."""
    return {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}


def build_baseline(ref, where, clock, log):
    commit = git("rev-parse", "--verify", f"{ref}^{{commit}}").stdout.strip()
    git("worktree", "add", "--detach", str(where), commit, timeout=clock.timeout(300))
    with open(log, "ab") as out:
        subprocess.run(["./scripts/bootstrap"], cwd=where, env=clean_env(), stdout=out, stderr=subprocess.STDOUT,
                       timeout=clock.timeout(SETUP_TIMEOUT), check=True)
    return commit


def remove_baseline(where):
    try:
        git("worktree", "remove", "--force", str(where), timeout=300)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"compare: could not remove the worktree {where}: {exc}", file=sys.stderr)
    shutil.rmtree(where, ignore_errors=True)
    try:
        git("worktree", "prune", timeout=60)
    except (subprocess.SubprocessError, OSError):
        pass


def busy_seconds():
    """CPU seconds the whole machine has spent not idle (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(n) for n in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def scenario(tree, name, args, clock, log):
    """One `python -m bench <name>` in `tree`: its JSON line, with the machine's load around it."""
    load_before, busy_before, started = os.getloadavg(), busy_seconds(), time.monotonic()
    with open(log, "a") as out:
        out.write(f"\n== {tree} {name} {' '.join(args)}\n")
        out.flush()
        try:
            done = subprocess.run([str(tree / ".venv" / "bin" / "python"), "-m", "bench", name, *args], cwd=tree,
                                  env=clean_env(), stdout=subprocess.PIPE, stderr=out, text=True,
                                  timeout=clock.timeout(RUN_TIMEOUT["quick" if "--quick" in args else "full"]))
            out.write(done.stdout)
            stdout, code = done.stdout, done.returncode
        except subprocess.TimeoutExpired:
            stdout, code = "", "timeout"
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    wall = time.monotonic() - started
    return {"exit": code, "wall_s": round(wall, 1), "load_1min_before": round(load_before[0], 2),
            "load_1min_after": round(os.getloadavg()[0], 2),
            "machine_busy_cores": round((busy_seconds() - busy_before) / wall, 2),
            "result": json.loads(lines[-1]) if lines else None}


def rush_figures(run):
    result = run["result"] or {}
    cpu = result.get("cpu_ms_per_enrolment") or {}
    return {"enrolments_per_s": result.get("enrolments_per_s"), "p99_ms": result.get("p99_ms"),
            "cpu_ms_per_enrolment": cpu.get("all"), "cpu_by_process": cpu,
            "correct": all(held for name, held in (result.get("bars") or {}).items()
                           if not name.startswith(("rate", "p99"))) if result else False,
            **{k: run[k] for k in ("exit", "wall_s", "load_1min_before", "load_1min_after", "machine_busy_cores")}}


def medians(runs):
    out = {}
    for name in BARS:
        values = [r[name] for r in runs if r[name] is not None]
        out[name] = statistics.median(values) if values else None
    return out


def verdict(base, cand):
    ratios, bars = {}, {}
    for name, (sense, bar) in BARS.items():
        if base[name] and cand[name] is not None:
            ratio = cand[name] / base[name]
            ratios[name] = round(ratio, 3)
            bars[f"{name}{sense}{bar}x"] = ratio >= bar if sense == ">=" else ratio <= bar
    return ratios, bars


def extra_figures(name, run):
    """What rpc_tax and catalog say, in short."""
    result = run["result"] or {}
    keep = {"rpc_tax": ("ratio", "through_rpc", "direct_db", "cpu_ms_per_read"),
            "catalog": ("ratio", "read_model", "direct_db", "cpu_ms_per_read")}[name]
    return {"exit": run["exit"], "passed": result.get("passed"), **{k: result.get(k) for k in keep},
            "load_1min_before": run["load_1min_before"], "machine_busy_cores": run["machine_busy_cores"]}


def compare(args, clock, workdir, log):
    tree = workdir / "baseline"
    commit = build_baseline(args.baseline, tree, clock, log)
    rush_args = ["--quick"] if args.quick else []
    rush_args += [f"--instances={args.instances}"] if args.instances != 1 else []
    sides = {"baseline": tree, "candidate": ROOT}
    runs = {"baseline": [], "candidate": []}
    for pair in range(args.pairs):
        order = ("baseline", "candidate") if pair % 2 == 0 else ("candidate", "baseline")
        for side in order:
            print(f"compare: pair {pair + 1}/{args.pairs}, {side}", file=sys.stderr, flush=True)
            run = scenario(sides[side], "rush", rush_args, clock, log)
            runs[side].append({"pair": pair + 1, **rush_figures(run)})
    extras = {}
    for name in args.also:
        extras[name] = {}
        for side in ("baseline", "candidate"):
            print(f"compare: {name}, {side}", file=sys.stderr, flush=True)
            extras[name][side] = extra_figures(name, scenario(sides[side], name, ["--quick"] if args.quick else [],
                                                              clock, log))
    base, cand = medians(runs["baseline"]), medians(runs["candidate"])
    ratios, bars = verdict(base, cand)
    bars["every_run_correct"] = all(r["correct"] for side in runs.values() for r in side)
    return {"baseline": {"ref": args.baseline, "commit": commit}, "candidate": candidate_identity(),
            "rush": {"size": "quick" if args.quick else "full", "instances": args.instances, "pairs": args.pairs,
                     "runs": runs, "median": {"baseline": base, "candidate": cand}, "ratio": ratios},
            "bars": bars, **({"also": extras} if extras else {})}


def candidate_identity():
    head = git("rev-parse", "HEAD").stdout.strip()
    dirty = bool(git("status", "--porcelain", "--untracked-files=no").stdout.strip())
    return {"commit": head, "uncommitted_changes": dirty}


def main(argv):
    parser = argparse.ArgumentParser(prog="bench/compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE, help=f"the git ref to compare against (default {BASELINE})")
    parser.add_argument("--pairs", type=int, default=3, help="alternating baseline/candidate pairs (default 3)")
    parser.add_argument("--quick", action="store_true", help="the quick rush (400 members), for trying the script")
    parser.add_argument("--instances", type=int, default=1, help="enrolment instances in each rush")
    parser.add_argument("--also", nargs="*", default=list(ALSO), choices=ALSO,
                        help="scenarios run once per side after the pairs (default both; none: --also)")
    parser.add_argument("--budget", type=int, default=5400, help="seconds the whole comparison may take")
    parser.add_argument("--out", type=Path, help="the JSON file (default var/bench/compare-<time>.json)")
    args = parser.parse_args(argv)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = args.out or ROOT / "var" / "bench" / f"compare-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_suffix(".log")
    clock = Clock(args.budget)
    workdir = Path(tempfile.mkdtemp(prefix="palace-compare-"))
    started = {"started_utc": stamp, "load_1_5_15_min": [round(x, 2) for x in os.getloadavg()], "cores": os.cpu_count()}
    try:
        figures = compare(args, clock, workdir, log)
        code = 0 if all(figures["bars"].values()) else 1
    except (OutOfTime, subprocess.SubprocessError, OSError) as exc:
        figures, code = {"error": f"{type(exc).__name__}: {exc}", "log": str(log)}, 2
    finally:
        remove_baseline(workdir / "baseline")
        shutil.rmtree(workdir, ignore_errors=True)
    line = {"comparison": "rush", **started, "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load_after_1_5_15_min": [round(x, 2) for x in os.getloadavg()], **figures, "log": str(log)}
    out.write_text(json.dumps(line, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: line.get(k) for k in ("bars", "error")} | {"json": str(out)}, ensure_ascii=False))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
