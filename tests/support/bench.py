"""`make bench`: what the action costs a user, each figure beside its baseline from the same run.

- process time per alert: `python -m entrypoint` sending a real alert to the local stand-in, vs a
  bare `python -c pass`, vs curl posting the same body;
- the same with GitHub's API answering (a local stand-in): failed jobs listed and
  failures-before-alert 3 checked, vs the plain alert; an alert that also quotes the error messages
  of 3 failed jobs, vs the plain alert; and a resolve that first looks for a newer failed run of the
  same job, vs the plain alert;
- GitHub requests per step in each layout (tests/support/requests_per_layout.py), and for a push of a
  50-job workflow, vs the same scenarios measured before issue 24;
- import time of the entrypoint, vs a bare interpreter;
- a burst of 30 concurrent jobs against a rate-limited stand-in, vs the limit's own minimum time;
- a skip (a feature branch's run, the most frequent), vs a firing alert;
- with Docker: the image's no-cache build time with the base present, its compressed size as a fresh
  runner pulls it (FROM scratch: every layer), as built here and estimated for the official base (this
  machine's base is an unstripped stand-in), vs 1.0.0's base and layers; `docker run` of a dry run vs
  `docker run` of the bare base image;
- with act too: the real-runner tier's whole time, and one act run of a workflow vs the same alert as a
  process;
- with a registry on 127.0.0.1:5000 too: a job's set-up cost, the no-cache build (what `image:
  Dockerfile` costs every job) vs pulling the released image by digest, and the bytes the pull fetches.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.act import act_unavailable_reason
from tests.support.actions_runner import (
    JOB_TOKEN,
    ROOT,
    THIS_PUSH,
    StepFiles,
    default_github_env,
    process_environment,
    write_event,
)
from tests.support.burst import run_burst
from tests.support.container import (
    CHECKOUT_ID,
    IMAGE,
    build_image,
    compressed_layers,
    docker_unavailable_reason,
    stripped_estimate,
)
from tests.support.github_api_stand_in import FakeRun, GitHubApiStandIn, job, step
from tests.support.incident_io_stand_in import IncidentIoStandIn
from tests.support.rehearsal import REGISTRY, registry_unavailable_reason
from tests.support.requests_per_layout import BEFORE, measure

TOKEN = "bench-token-0123456789"
SOURCE_ID = "01GW2G3V0S59R238FAHPDS1R66"
RUNS = int(os.environ.get("BENCH_RUNS", "15"))
BASE_IMAGE = "python:3.12-slim"
# 1.0.0's image was python:3.12-slim plus its own layers: what a fresh runner pulled. The base's compressed
# size for linux/amd64 is docker-library's repo-info figure; the layers', `make bench` of 1.0.0.
BEFORE_BASE_MB, BEFORE_OWN_MB = 43.2, 5.7


def median_seconds(action: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def row(name: str, value: str, baseline: str, note: str = "") -> None:
    print(f"{name:<52} {value:>12}   {baseline:<34} {note}")


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def bench_process(stand_in: IncidentIoStandIn, tmp: Path) -> float:
    files = StepFiles(tmp / "step")
    write_event(files, THIS_PUSH)
    env = process_environment(
        files, {"api-token": TOKEN, "alert-source-config-id": SOURCE_ID, "api-url": stand_in.url}
    )
    python = sys.executable

    def alert() -> None:
        run([python, "-m", "entrypoint"], env=env, cwd=files.workspace)

    alert()  # warm the bytecode cache, as the image's build does
    per_alert = median_seconds(alert)
    bare = median_seconds(lambda: run([python, "-c", "pass"]))
    sent = len(stand_in.received)
    body = json.dumps(stand_in.received[-1].json())
    curl_note = ""
    if shutil.which("curl"):
        url = f"{stand_in.url}/v2/alert_events/http/{SOURCE_ID}"
        curl = [
            "curl", "-sS", "-o", "/dev/null", "-X", "POST", "-H", f"Authorization: Bearer {TOKEN}",
            "-H", "Content-Type: application/json", "--data-binary", body, url,
        ]  # fmt: skip
        curl_time = median_seconds(lambda: run(curl))
        curl_note = f"curl same body: {curl_time * 1000:.0f} ms"
    row(
        "process time per alert (python -m entrypoint)",
        f"{per_alert * 1000:.0f} ms",
        f"python -c pass: {bare * 1000:.0f} ms",
        f"{curl_note}; target <= 250 ms; {sent} alerts sent",
    )
    imports = median_seconds(lambda: run([python, "-c", "import entrypoint.app"], cwd=ROOT))
    row(
        "import time (import entrypoint.app)",
        f"{imports * 1000:.0f} ms",
        f"python -c pass: {bare * 1000:.0f} ms",
    )
    bench_skip(tmp, per_alert)
    return per_alert


def bench_skip(tmp: Path, per_alert: float) -> None:
    """A feature branch's run: outside `branches`, it sends nothing and loads no HTTP stack."""
    files = StepFiles(tmp / "skip")
    github_env = default_github_env(GITHUB_REF="refs/heads/feature/login", GITHUB_REF_NAME="feature/login")
    write_event(files, THIS_PUSH, github_env)
    env = process_environment(files, {}, github_env=github_env)
    per_skip = median_seconds(lambda: run([sys.executable, "-m", "entrypoint"], env=env, cwd=files.workspace))
    row(
        "a skip (a feature branch's run)",
        f"{per_skip * 1000:.0f} ms",
        f"firing alert: {per_alert * 1000:.0f} ms",
        f"{per_skip / per_alert:.2f}x; target <= 0.8x",
    )


def bench_github_api(stand_in: IncidentIoStandIn, tmp: Path, plain_alert: float) -> None:
    github_env = default_github_env()
    with GitHubApiStandIn(token=JOB_TOKEN) as github:
        this_job = job(
            "test",
            None,
            [step("pytest", "failure")],
            status="in_progress",
            runner_name=github_env["RUNNER_NAME"],
        )
        github.add_run(FakeRun(int(github_env["GITHUB_RUN_ID"]), None, status="in_progress"), jobs=[this_job])
        github.history("success", "failure", "failure")
        files = StepFiles(tmp / "github")
        write_event(files, THIS_PUSH)
        with_ = {
            "api-token": TOKEN,
            "alert-source-config-id": SOURCE_ID,
            "api-url": stand_in.url,
            "failures-before-alert": "3",
        }
        env = process_environment(files, with_, github_env=default_github_env(GITHUB_API_URL=github.url))
        sent_before = len(stand_in.received)
        per_alert = median_seconds(
            lambda: run([sys.executable, "-m", "entrypoint"], env=env, cwd=files.workspace)
        )
        requests_per_alert = len(github.received) / RUNS
        fired = len(stand_in.received) - sent_before == RUNS

        # A resolve first looks for a newer run of the same job: here one exists, and it passed.
        newer = FakeRun(int(github_env["GITHUB_RUN_ID"]) + 1, "success", run_number=18)
        github.add_run(newer, jobs=[job("test", "success")])
        resolve_env = process_environment(
            files, with_, job_status="success", github_env=default_github_env(GITHUB_API_URL=github.url)
        )
        github.received.clear()
        sent_before = len(stand_in.received)
        per_resolve = median_seconds(
            lambda: run([sys.executable, "-m", "entrypoint"], env=resolve_env, cwd=files.workspace)
        )
        requests_per_resolve = len(github.received) / RUNS
        resolved = len(stand_in.received) - sent_before == RUNS
    row(
        "per alert with GitHub's API (jobs, streak)",
        f"{per_alert * 1000:.0f} ms",
        f"plain alert: {plain_alert * 1000:.0f} ms",
        f"{requests_per_alert:.0f} GitHub requests per alert; all fired: {fired}",
    )
    row(
        "per resolve, newer runs checked",
        f"{per_resolve * 1000:.0f} ms",
        f"plain alert: {plain_alert * 1000:.0f} ms",
        f"{requests_per_resolve:.0f} GitHub requests per resolve; all resolved: {resolved}",
    )


def bench_errors(stand_in: IncidentIoStandIn, tmp: Path, plain_alert: float) -> None:
    """An alert that reads the jobs and the error messages of 3 failed sibling jobs (4 requests)."""
    with GitHubApiStandIn(token=JOB_TOKEN) as github:
        github.this_run_with_failed_siblings("lint", "unit", "e2e")
        files = StepFiles(tmp / "errors")
        write_event(files, THIS_PUSH)
        with_ = {"api-token": TOKEN, "alert-source-config-id": SOURCE_ID, "api-url": stand_in.url}
        env = process_environment(files, with_, github_env=default_github_env(GITHUB_API_URL=github.url))
        sent_before = len(stand_in.received)
        per_alert = median_seconds(
            lambda: run([sys.executable, "-m", "entrypoint"], env=env, cwd=files.workspace)
        )
        requests_per_alert = len(github.received) / RUNS
        quoted = all(len(body["metadata"].get("errors", [])) == 3 for body in stand_in.bodies()[sent_before:])
    row(
        "per alert quoting 3 failed jobs' errors",
        f"{per_alert * 1000:.0f} ms",
        f"plain alert: {plain_alert * 1000:.0f} ms",
        f"{requests_per_alert:.0f} GitHub requests per alert; all quoted 3 errors: {quoted}",
    )


def bench_image() -> None:
    reason = docker_unavailable_reason()
    if reason is not None:
        print(f"image figures skipped: {reason}")
        return
    run(["docker", "image", "inspect", BASE_IMAGE])  # the base must be present: a fair build time
    builds = [median_seconds(lambda: build_image(IMAGE, no_cache=True), runs=1) for _ in range(3)]
    row(
        "no-cache build, base present (median of 3)",
        f"{statistics.median(builds):.1f} s",
        f"runs {', '.join(f'{b:.1f}' for b in builds)} s",
    )
    bench_job_setup(statistics.median(builds))
    before = f"1.0.0: {BEFORE_BASE_MB} + {BEFORE_OWN_MB} = {BEFORE_BASE_MB + BEFORE_OWN_MB:.1f} MB"
    row(
        "image, compressed: a fresh runner's pull",
        f"{compressed_layers(IMAGE) / 1e6:.1f} MB",
        before,
        "as built here: FROM scratch, every layer the action's; this base is an unstripped stand-in",
    )
    row(
        "image, compressed: official-base estimate",
        f"{stripped_estimate(IMAGE) / 1e6:.1f} MB",
        before,
        "ELF files stripped as the official python image links them; target <= 20 MB",
    )
    size = int(run(["docker", "image", "inspect", "-f", "{{.Size}}", IMAGE]).stdout)
    base_size = int(run(["docker", "image", "inspect", "-f", "{{.Size}}", BASE_IMAGE]).stdout)
    row("image, uncompressed", f"{size / 1e6:.1f} MB", f"{BASE_IMAGE} alone: {base_size / 1e6:.1f} MB")
    settings = {
        "INCIDENT_IO_API_TOKEN": TOKEN,
        "INCIDENT_IO_ALERT_SOURCE_CONFIG_ID": SOURCE_ID,
        "INCIDENT_IO_TITLE": "t",
        "INCIDENT_IO_DEDUPLICATION_KEY": "k",
        "INCIDENT_IO_DRY_RUN": "true",
    }
    dry = ["docker", "run", "--rm"]
    for name, value in settings.items():
        dry += ["-e", f"{name}={value}"]
    dry.append(IMAGE)
    runs = max(5, RUNS // 3)
    dry_time = median_seconds(lambda: run(dry), runs=runs)
    bare_time = median_seconds(
        lambda: run(["docker", "run", "--rm", BASE_IMAGE, "python", "-c", "pass"]), runs=runs
    )
    row(
        f"docker run, dry run (median of {runs})",
        f"{dry_time * 1000:.0f} ms",
        f"docker run base python -c pass: {bare_time * 1000:.0f} ms",
    )


def bench_job_setup(build_seconds: float) -> None:
    """What a job pays at "Set up job": building the Dockerfile (`image: Dockerfile`, main) against pulling
    the released image by digest (`image: docker://...@sha256`, a release), the base image present for
    both, and the compressed bytes each fetches: the wheels pip downloads, or the action's own layers."""
    reason = registry_unavailable_reason(REGISTRY)
    if reason is not None:
        print(f"job set-up figures skipped: {reason}")
        return
    repository = f"{REGISTRY}/incident-io-alert-action-bench-{CHECKOUT_ID}"
    run(["docker", "tag", IMAGE, f"{repository}:bench"])
    run(["docker", "push", f"{repository}:bench"])
    digests = json.loads(run(["docker", "image", "inspect", "-f", "{{json .RepoDigests}}", IMAGE]).stdout)
    image_ref = next(ref for ref in digests if ref.startswith(f"{repository}@"))
    manifest = registry_manifest(repository.split("/", 1)[1], image_ref.split("@", 1)[1])
    pulled_bytes = sum(layer["size"] for layer in manifest["layers"])  # FROM scratch: every layer

    def pull() -> None:
        run(["docker", "image", "rm", "--force", IMAGE, f"{repository}:bench", image_ref])  # the base stays
        run(["docker", "pull", image_ref])

    pulls = [median_seconds(pull, runs=1) for _ in range(3)]
    pull_seconds = statistics.median(pulls)
    shown = ", ".join(f"{seconds:.2f}" for seconds in pulls)
    run(["docker", "tag", image_ref, IMAGE])  # as the build left it
    row(
        "job set-up: pull released image by digest",
        f"{pull_seconds:.2f} s",
        f"no-cache build: {build_seconds:.1f} s",
        f"{build_seconds / pull_seconds:.1f}x faster; pulls {shown} s, every layer (no base shared)",
    )
    wheels = wheel_bytes()
    row(
        "job set-up: compressed bytes the pull fetches",
        f"{pulled_bytes / 1e6:.2f} MB",
        f"build's wheels: {wheels / 1e6:.2f} MB" if wheels else "build's wheels: n/a (no PyPI)",
        f"all {len(manifest['layers'])} layers, as built here (the registry's own figure)",
    )


def registry_manifest(name: str, digest: str) -> dict[str, Any]:
    """The image manifest as the registry serves it to `docker pull` (its layers' compressed sizes)."""
    request = urllib.request.Request(
        f"http://{REGISTRY}/v2/{name}/manifests/{digest}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        manifest: dict[str, Any] = json.loads(answer.read())
    return manifest


def wheel_bytes() -> int | None:
    """What the Dockerfile's pip install downloads: the hash-pinned wheels for CPython 3.12 on Linux."""
    with tempfile.TemporaryDirectory() as tmp:
        download = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.12", "--implementation", "cp", "--platform", "manylinux_2_17_x86_64",
             "--platform", "manylinux2014_x86_64", "--dest", tmp, "-r", str(ROOT / "requirements.txt")],
            capture_output=True, check=False, timeout=300,
        )  # fmt: skip
        if download.returncode != 0:
            return None
        return sum(path.stat().st_size for path in Path(tmp).iterdir())


def bench_real_runner(plain_alert: float) -> None:
    """The real-runner tier (tests/test_real_runner.py, nektos/act): how long it takes in all, and each act
    run (a whole workflow: job container, image build from cache, the step, a later step) against the
    same alert as a bare process."""
    reason = act_unavailable_reason()
    if reason is not None:
        print(f"real-runner figures skipped: {reason}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        timings = Path(tmp) / "act-timings"
        env = {**os.environ, "ACT_TIMINGS": str(timings)}
        started = time.perf_counter()
        tier = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_real_runner.py"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        runs = [float(line) for line in timings.read_text().split()] if timings.exists() else []
    outcome = tier.stdout.strip().splitlines()[-1] if tier.stdout.strip() else f"exit {tier.returncode}"
    row(
        "real-runner tier (act), whole",
        f"{seconds:.0f} s",
        f"{len(runs)} act runs, {sum(runs):.0f} s in act",
        outcome,
    )
    if runs:
        row(
            "one act run of a workflow (median)",
            f"{statistics.median(runs):.1f} s",
            f"the step as a process: {plain_alert * 1000:.0f} ms",
            f"fastest {min(runs):.1f} s, slowest {max(runs):.1f} s",
        )


def main() -> None:
    print(f"{'figure':<52} {'value':>12}   {'baseline (same run)':<34} note")
    with (
        IncidentIoStandIn(token=TOKEN, source_id=SOURCE_ID) as stand_in,
        tempfile.TemporaryDirectory() as tmp,
    ):
        plain_alert = bench_process(stand_in, Path(tmp))
        bench_github_api(stand_in, Path(tmp), plain_alert)
        bench_errors(stand_in, Path(tmp), plain_alert)
        for name, count in measure(Path(tmp) / "requests").items():
            row(name, f"{count} requests", f"before issue 24: {BEFORE[name]}")
    bench_real_runner(plain_alert)
    with tempfile.TemporaryDirectory() as tmp:
        burst = run_burst(Path(tmp), jobs=30, limit=10, window=5.0)
    row(
        "burst: 30 jobs at once, limit 10 per 5 s",
        f"{burst.seconds:.1f} s",
        f"the limit's minimum: {burst.minimum_seconds:.1f} s",
        f"{burst.ratio:.2f}x; target <= 1.2x; {burst.requests} requests, "
        f"{sum(burst.accepted_per_key.values())} accepted",
    )
    bench_image()


if __name__ == "__main__":
    main()
