"""The action run by a real GitHub Actions runner that nobody on this project wrote: nektos/act.

Each test runs a workflow that uses the action (`uses: ./`) through act (tests/support/act.py): act loads
action.yml with the runner's rules, evaluates the inputs' defaults, builds the image and runs it, and
parses the workflow commands and output file for the later steps. What is asserted is what on-call gets
(the events incident.io's stand-in received: status, key, title) and what a later step of the same job
reads (`steps.alert.outputs.*`, the payload parsed as JSON there).

The examples run as a user copies them, with only these changes: `uses:` points at the checkout, `api-url`
at the stand-in, `dry-run: false` (act's default is a dry run: a local run never pages by surprise), and the
test command made to pass or fail.

Where act cannot be GitHub (no `job.check_run_id`, no `RUNNER_NAME`, no `GITHUB_WORKFLOW_REF` so keys name
the workflow by its name, no `timeout-minutes`, no annotations, no run history in GitHub's API), a test
says so, and the process tests (`test_layouts.py`, `test_across_runs.py`) keep covering that.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from entrypoint import messages
from tests.conftest import SOURCE_ID, TOKEN
from tests.support import layouts
from tests.support.act import REPORT_STEP, ActRun, Checkout, run_act
from tests.support.actions_runner import JOB_TOKEN, ROOT
from tests.support.github_api_stand_in import (
    THIS_RUN_ID,
    THIS_RUN_NUMBER,
    FakeRun,
    GitHubApiStandIn,
    job,
    running_job,
    step,
)
from tests.support.incident_io_stand_in import HEARTBEAT_ID, HEARTBEAT_TOKEN, IncidentIoStandIn, Reply
from tests.support.rehearsal import rehearse
from tests.test_release import require_registry

pytestmark = [pytest.mark.real_runner, pytest.mark.usefixtures("act_available")]

EXAMPLES = ROOT / "examples"
SECRETS = {"INCIDENT_IO_ALERT_TOKEN": TOKEN}
VARIABLES = {"INCIDENT_IO_ALERT_SOURCE_CONFIG_ID": SOURCE_ID}
# act names the workflow by its name (it sets no GITHUB_WORKFLOW_REF) and the repository by `origin`.
KEY_PREFIX = "github-actions:octo-org/octo-repo"
USES_OURS = re.compile(r"uses: ([\w-]+/incident-io-alert-action@\S+)")
TEST_COMMANDS = ("make test", "make build", "make integration", "make e2e", "./deploy.sh production")


def as_copied(
    example: str,
    api_url: str,
    commands: dict[str, str] | None = None,
    *,
    send: bool = True,
    image: str | None = None,
) -> str:
    """An example as a user copies it into a repository and runs it with act: `api-url` at the stand-in,
    `dry-run: false` (unless `send` is false), each test command made to pass (`true`) or as `commands`
    says, and a later step that reports what it reads of the alert step's outputs (`id: alert` given where
    the example has no id). Its `uses:` stays as written (act takes that action from the checkout), but
    for `docker://`, whose digest stands for a release's: `image`."""
    text = (EXAMPLES / example).read_text(encoding="utf-8")
    if image is not None:
        text, replaced = re.subn(
            r"docker://ghcr\.io/OWNER/incident-io-alert-action@sha256:0{64}", f"docker://{image}", text
        )
        assert replaced == 1, example
    lines = text.splitlines()
    at = next(
        index
        for index, line in enumerate(lines)
        if line.strip().startswith(("uses:", "- uses:")) and (USES_OURS.search(line) or "docker://" in line)
    )
    start = max(index for index in range(at + 1) if lines[index].startswith("      - "))
    end = next((index for index in range(at + 1, len(lines)) if lines[index].startswith("      - ")), None)
    step = lines[start:end]
    if not any(line.strip().startswith(("id:", "- id:")) for line in step):
        step.insert(1, "        id: alert")
    with_input = next((index for index, line in enumerate(step) if "alert-source-config-id:" in line), None)
    where = (
        with_input
        if with_input is not None
        else next(index for index, line in enumerate(step) if "INCIDENT_IO_ALERT_SOURCE_CONFIG_ID:" in line)
    )
    indent = step[where][: len(step[where]) - len(step[where].lstrip())]
    if with_input is not None:
        added = [f"{indent}api-url: {api_url}"] + ([f'{indent}dry-run: "false"'] if send else [])
    else:  # docker://: the settings are variables, and without action.yml no runs.env overrides them
        added = [f"{indent}INCIDENT_IO_API_URL: {api_url}"] + (
            [f'{indent}INCIDENT_IO_DRY_RUN: "false"'] if send else []
        )
    step[where + 1 : where + 1] = added
    rest = lines[end:] if end is not None else []
    text = "\n".join(lines[:start] + step + rest) + "\n"
    for command in TEST_COMMANDS:
        text = text.replace(f"run: {command}\n", f"run: {(commands or {}).get(command, 'true')}\n")
    # The report goes last in the alert's job: the job that ends the file in every example.
    assert all(line.startswith("      ") or not line.strip() for line in rest), f"{example}: not last"
    return text + REPORT_STEP


def events(stand_in: IncidentIoStandIn) -> list[tuple[str, str, str]]:
    """What on-call got: each event's status, key and title, in order."""
    return [(body["status"], body["deduplication_key"], body["title"]) for body in stand_in.bodies()]


def assert_no_traceback(run: ActRun) -> None:
    assert "Traceback" not in run.log, run.log


@pytest.fixture
def checkout(tmp_path: Path) -> Checkout:
    return Checkout(tmp_path / "octo-repo")


# -- the examples, as a user copies them ------------------------------------------------------------------


def test_failed_job_fires_then_the_same_job_passing_resolves_the_same_key(
    checkout: Checkout, stand_in: IncidentIoStandIn
) -> None:
    """examples/failed-job.yml: the last step of the job, `if: always()`, on a push to main."""
    checkout.workflow("ci.yml", as_copied("failed-job.yml", stand_in.url, {"make test": "exit 1"}))
    red = run_act(checkout, "ci.yml", secrets=SECRETS, variables=VARIABLES)
    checkout.workflow("ci.yml", as_copied("failed-job.yml", stand_in.url))
    green = run_act(checkout, "ci.yml", secrets=SECRETS, variables=VARIABLES)

    key = f"{KEY_PREFIX}:CI:test:main"
    assert events(stand_in) == [
        ("firing", key, "CI / test failed on main in octo-org/octo-repo"),
        ("resolved", key, "CI / test passed on main in octo-org/octo-repo"),
    ]
    assert red.job_results() == {"test": "failure"}, red.log  # the alert step kept the job red, not greener
    assert green.job_results() == {"test": "success"}, green.log
    for run, status in ((red, "firing"), (green, "resolved")):
        report = run.report()
        assert (report["outcome"], report["status"], report["sent"], report["key"]) == (
            "success",
            status,
            "true",
            key,
        ), run.log
        assert report["payload"]["status"] == status
        assert report["payload"]["deduplication_key"] == key
        assert report["outputs"]["status"] == status
        assert_no_traceback(run)


def earlier_failure(github: GitHubApiStandIn, number: int, job_name: str) -> None:
    """An earlier run of the workflow on main, number `number`, in which the job `job_name` failed."""
    run = FakeRun(THIS_RUN_ID - 10 * (THIS_RUN_NUMBER - number), "failure", run_number=number)
    github.add_run(run, jobs=[job(job_name, "failure", [step("Run make integration", "failure")])])


def as_github(github: GitHubApiStandIn) -> dict[str, Any]:
    """What act needs to let the action ask the GitHub stand-in about this run: its URL, the run's id and
    number as the stand-in knows them, and the job's token (act gives `${{ github.token }}` from the
    GITHUB_TOKEN secret)."""
    env = {
        "GITHUB_API_URL": github.url,
        "GITHUB_RUN_ID": str(THIS_RUN_ID),
        "GITHUB_RUN_NUMBER": str(THIS_RUN_NUMBER),
    }
    return {"env": env, "secrets": {**SECRETS, "GITHUB_TOKEN": JOB_TOKEN}}


def test_branches_alerts_for_main_and_sends_nothing_for_a_feature_branch_without_secrets(
    checkout: Checkout, stand_in: IncidentIoStandIn
) -> None:
    """examples/branches.yml: main fires; a feature branch's push sends nothing and needs no secrets."""
    checkout.workflow("ci.yml", as_copied("branches.yml", stand_in.url, {"make test": "exit 1"}))
    main = run_act(checkout, "ci.yml", secrets=SECRETS, variables=VARIABLES)
    feature = run_act(checkout, "ci.yml", payload={"ref": "refs/heads/feature"})

    assert events(stand_in) == [
        ("firing", f"{KEY_PREFIX}:CI:test:main", "CI / test failed on main in octo-org/octo-repo")
    ]
    assert feature.job_results() == {"test": "failure"}, feature.log  # its own test failed, not the alert
    report = feature.report()
    assert (report["outcome"], report["status"], report["sent"]) == ("success", "skipped", "false")
    (notice,) = feature.annotations("notice")
    assert notice.data.startswith("This run is on feature, which branches (main, release/*) does not include")
    assert main.report()["status"] == "firing"


def test_deployments_key_the_alert_by_environment(checkout: Checkout, stand_in: IncidentIoStandIn) -> None:
    """examples/deployments.yml, on a pushed tag: its own title, key and metadata."""
    checkout.workflow(
        "deploy.yml", as_copied("deployments.yml", stand_in.url, {"./deploy.sh production": "exit 1"})
    )
    run = run_act(
        checkout, "deploy.yml", payload={"ref": "refs/tags/v1.2.0"}, secrets=SECRETS, variables=VARIABLES
    )

    assert events(stand_in) == [
        ("firing", "deploy:octo-org/octo-repo:production", "Deploy of octo-org/octo-repo to production")
    ], run.log
    metadata = stand_in.bodies()[0]["metadata"]
    assert (metadata["environment"], metadata["version"], metadata["branch"]) == (
        "production",
        "v1.2.0",
        "v1.2.0",
    )


def test_flaky_suite_fires_only_at_the_third_failure_in_a_row(
    checkout: Checkout, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """examples/flaky-suite.yml, the GitHub stand-in holding the earlier runs (act has no run history)."""
    checkout.workflow(
        "integration.yml", as_copied("flaky-suite.yml", stand_in.url, {"make integration": "exit 1"})
    )
    github.this_run(running_job(step("Run make integration", "failure"), name="integration"))
    earlier_failure(github, THIS_RUN_NUMBER - 1, "integration")
    second = run_act(checkout, "integration.yml", variables=VARIABLES, **as_github(github))
    earlier_failure(github, THIS_RUN_NUMBER - 2, "integration")
    third = run_act(checkout, "integration.yml", variables=VARIABLES, **as_github(github))

    (held_back,) = second.annotations("notice")
    assert held_back.data.startswith("2 of 3 consecutive failures of Integration / integration on main")
    assert second.report()["status"] == "skipped"
    key = f"{KEY_PREFIX}:Integration:integration:main"
    title = 'Integration / integration failed at step "Run make integration" on main in octo-org/octo-repo'
    assert events(stand_in) == [("firing", key, title)], third.log
    assert stand_in.bodies()[0]["metadata"]["consecutive_failures"] == 3


@pytest.mark.parametrize(
    ("example", "workflow", "key"),
    [
        (
            "github-enterprise-server.yml",
            "ci.yml",
            f"{KEY_PREFIX}:CI:test:main",
        ),  # runs-on: [self-hosted, linux]
        ("pinned-sha.yml", "ci.yml", f"{KEY_PREFIX}:CI:test:main"),
        # HTTPS_PROXY does not apply to the stand-in's http URL: this shows the example loads and alerts,
        # not the proxy (tests/test_container.py runs the image behind one).
        ("proxy.yml", "ci.yml", f"{KEY_PREFIX}:CI:test:main"),
    ],
)
def test_the_other_single_job_examples_fire_for_a_failed_job(
    checkout: Checkout, stand_in: IncidentIoStandIn, example: str, workflow: str, key: str
) -> None:
    checkout.workflow(workflow, as_copied(example, stand_in.url, {"make test": "exit 1"}))
    run = run_act(checkout, workflow, secrets=SECRETS, variables=VARIABLES)

    assert events(stand_in) == [("firing", key, "CI / test failed on main in octo-org/octo-repo")], run.log
    assert run.report()["sent"] == "true"


def test_matrix_legs_are_keyed_apart(checkout: Checkout, stand_in: IncidentIoStandIn) -> None:
    """examples/matrix.yml: Python 3.13 fails, 3.12 passes; each leg its own alert. (actions/setup-python is
    a local stand-in: act would fetch it from GitHub.)"""
    command = 'test "$PYTHON" != 3.13'
    text = as_copied("matrix.yml", stand_in.url, {"make test": command})
    text = text.replace(
        f"run: {command}\n", f"run: {command}\n        env:\n          PYTHON: ${{{{ matrix.python }}}}\n"
    )
    checkout.workflow("tests.yml", text)
    run = run_act(checkout, "tests.yml", secrets=SECRETS, variables=VARIABLES)

    key = f"{KEY_PREFIX}:Tests:test[os=ubuntu-latest,python=%s]:main"
    assert sorted(events(stand_in)) == [
        (
            "firing",
            key % "3.13",
            "Tests / test (os=ubuntu-latest, python=3.13) failed on main in octo-org/octo-repo",
        ),
        (
            "resolved",
            key % "3.12",
            "Tests / test (os=ubuntu-latest, python=3.12) passed on main in octo-org/octo-repo",
        ),
    ], run.log
    assert {report["job"]: report["key"] for report in run.reports()} == {
        "test (os=ubuntu-latest, python=3.12)": key % "3.12",
        "test (os=ubuntu-latest, python=3.13)": key % "3.13",
    }


def test_a_notify_job_fires_naming_the_failed_needed_job_and_resolves_when_all_pass(
    checkout: Checkout, stand_in: IncidentIoStandIn
) -> None:
    """examples/notify-job.yml, without GitHub's API: the title and the conclusion are the needed jobs'."""
    checkout.workflow("ci.yml", as_copied("notify-job.yml", stand_in.url, {"make test": "exit 1"}))
    red = run_act(checkout, "ci.yml", secrets=SECRETS, variables=VARIABLES)
    checkout.workflow("ci.yml", as_copied("notify-job.yml", stand_in.url))
    green = run_act(checkout, "ci.yml", secrets=SECRETS, variables=VARIABLES)

    key = f"{KEY_PREFIX}:CI:alert:main"
    assert events(stand_in) == [
        ("firing", key, "CI / test failed on main in octo-org/octo-repo"),
        ("resolved", key, "CI passed on main in octo-org/octo-repo"),
    ], red.log + green.log
    fired, resolved = stand_in.bodies()
    assert fired["metadata"]["conclusion"] == "failure"
    assert fired["metadata"]["failed_needs"] == ["test"]
    assert "- **Conclusion:** failure" in fired["description"]
    assert resolved["metadata"]["conclusion"] == "success"
    assert red.job_results() == {"build": "success", "test": "failure", "alert": "success"}


def test_outputs_tell_a_later_step_what_happened(checkout: Checkout, stand_in: IncidentIoStandIn) -> None:
    """examples/outputs.yml: delivered, a later step reads status and key; refused, another reads the error
    and makes it one warning of its own."""
    checkout.workflow("ci.yml", as_copied("outputs.yml", stand_in.url, {"make test": "exit 1"}))
    delivered = run_act(checkout, "ci.yml", secrets=SECRETS, variables=VARIABLES)
    stand_in.script(Reply(401, {"type": "authentication_error", "status": 401, "errors": []}))
    refused = run_act(checkout, "ci.yml", secrets=SECRETS, variables=VARIABLES)

    key = f"{KEY_PREFIX}:CI:test:main"
    assert f"incident.io has the firing alert {key}" in delivered.step_output_lines, delivered.log
    assert refused.job_results() == {"test": "failure"}  # its own test failed; fail-on-error: false
    assert refused.report()["outcome"] == "success"
    assert "HTTP 401" in refused.report()["error"]
    (warning,) = [command for command in refused.commands("warning") if command.step != "alert"]
    assert warning.properties == {"title": "incident.io alert not delivered"}
    assert warning.data == refused.report()["error"]


def test_a_nightly_job_pings_its_heartbeat_when_green(
    checkout: Checkout, stand_in: IncidentIoStandIn
) -> None:
    """examples/scheduled.yml, on its schedule."""
    checkout.workflow("nightly.yml", as_copied("scheduled.yml", stand_in.url))
    run = run_act(
        checkout,
        "nightly.yml",
        "schedule",
        secrets={**SECRETS, "INCIDENT_IO_HEARTBEAT_TOKEN": HEARTBEAT_TOKEN},
        variables={**VARIABLES, "INCIDENT_IO_HEARTBEAT_SOURCE_CONFIG_ID": HEARTBEAT_ID},
    )

    key = f"{KEY_PREFIX}:Nightly:end-to-end:main"
    assert events(stand_in) == [
        ("resolved", key, "Nightly / end-to-end passed on main in octo-org/octo-repo")
    ]
    assert [request.path for request in stand_in.pings()] == [f"/v2/heartbeat/{HEARTBEAT_ID}/ping"]
    assert run.report()["heartbeat"] == "sent"
    assert stand_in.bodies()[0]["metadata"]["schedule"] == "nightly"


def watched_payload(conclusion: str = "failure", **fields: Any) -> dict[str, Any]:
    return layouts.watched_run(conclusion, **fields).event


def test_a_workflow_run_watcher_alerts_about_the_watched_run(
    checkout: Checkout, stand_in: IncidentIoStandIn
) -> None:
    """examples/watch-workflows.yml with a saved `workflow_run` payload: the watched CI run failed on main.
    A fork's run is left out by the job's own condition."""
    checkout.workflow("alerts.yml", as_copied("watch-workflows.yml", stand_in.url))
    watched = run_act(
        checkout,
        "alerts.yml",
        "workflow_run",
        payload=watched_payload(),
        secrets=SECRETS,
        variables=VARIABLES,
    )
    fork = run_act(
        checkout, "alerts.yml", "workflow_run",
        payload=watched_payload("success", fork_owner="someone", event="pull_request"),
        secrets=SECRETS, variables=VARIABLES,
    )  # fmt: skip

    key = "github-actions:octo-org/octo-repo:ci.yml:main"  # the watched run's payload names its file
    assert events(stand_in) == [("firing", key, "CI failed on main in octo-org/octo-repo")], watched.log
    assert watched.report()["payload"]["metadata"]["run_number"] == 163
    assert fork.reports() == [] and fork.job_results() == {}, fork.log  # the job did not run


# -- the README's layouts that act can run -----------------------------------------------------------------

ALERT = """\
      - id: alert
        if: always()
        uses: ./
        with:
          api-token: ${{{{ secrets.INCIDENT_IO_ALERT_TOKEN }}}}
          alert-source-config-id: {source_id}
          api-url: {api_url}
          dry-run: "false"
"""


def alert_step(api_url: str, **inputs: str) -> str:
    """The alert as the last step of a job, `if: always()`, and a later step that reports its outputs."""
    step = ALERT.format(source_id=SOURCE_ID, api_url=api_url)
    for name, value in inputs.items():
        step += f"          {name}: {json.dumps(value)}\n"
    return step + REPORT_STEP


def one_job(api_url: str, run: str = "exit 1", *, name: str = "CI", on: str = "push", **inputs: str) -> str:
    return f"""\
name: {name}
on: {on}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - name: Run tests
        run: {run}
{alert_step(api_url, **inputs)}"""


def test_a_notify_job_fires_for_a_failure_behind_a_skipped_needed_job(
    checkout: Checkout, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """`needs: [lint, deploy]`; `test` failed, so `deploy` (which needs it) was skipped: the run's jobs, from
    the GitHub stand-in (act's run is unknown to GitHub), name `test`."""
    checkout.workflow(
        "ci.yml",
        f"""\
name: CI
on: push
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  test:
    runs-on: ubuntu-latest
    steps:
      - name: Run tests
        run: exit 1
  deploy:
    needs: test
    runs-on: ubuntu-latest
    steps:
      - run: "true"
  alert:
    needs: [lint, deploy]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
{alert_step(stand_in.url, needs="${{ toJSON(needs) }}")}""",
    )
    github.this_run(
        job("lint", "success"),
        job("test", "failure", [step("Run tests", "failure")]),
        job("deploy", "skipped"),
        running_job(name="alert"),
    )
    run = run_act(checkout, "ci.yml", variables=VARIABLES, **as_github(github))

    assert events(stand_in) == [
        (
            "firing",
            f"{KEY_PREFIX}:CI:alert:main",
            'CI / test failed at step "Run tests" on main in octo-org/octo-repo',
        )
    ], run.log
    assert stand_in.bodies()[0]["metadata"]["failed_jobs"] == ["test"]
    assert run.job_results() == {"lint": "success", "test": "failure", "alert": "success"}  # deploy skipped


CALLED = """\
name: Unit
on:
  workflow_call:
    inputs:
      python:
        type: string
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - name: Run tests
        run: test "${{{{ inputs.python }}}}" != 3.13
{alert}"""
CALLER = """\
name: CI
on: push
jobs:
  unit:
    strategy:
      fail-fast: false
      matrix:
        python: ["3.11", "3.12", "3.13"]
    uses: ./.github/workflows/unit.yml
    secrets: inherit
    with:
      python: ${{ matrix.python }}
"""


def test_a_called_workflows_legs_are_found_without_a_check_run_id_or_warn(
    checkout: Checkout, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """A reusable workflow called by a matrix. act sets no `job.check_run_id` and no runner name (an older
    GitHub Enterprise Server neither): a leg is found in GitHub's API as the one leg in progress, or the
    one whose steps agree with its status, and keyed by its name; where neither tells it, it warns, falls
    back to a key the legs share, and its success does not resolve while another leg has failed.

    The legs run one at a time here (`--matrix`), GitHub's jobs as they are at each leg's alert step:
    3.13 fails while 3.12 and 3.11 run; 3.12 passes while 3.11 runs (two green legs in progress: not
    told apart); then 3.11 passes, the last one running."""
    checkout.workflow("unit.yml", CALLED.format(alert=alert_step(stand_in.url)))
    checkout.workflow("ci.yml", CALLER)
    failing = step("Run tests", "failure")
    github.this_run(
        *[running_job(name=f"unit ({python}) / test") for python in ("3.11", "3.12")],
        running_job(failing, name="unit (3.13) / test"),
    )
    first = run_act(checkout, "ci.yml", matrix={"python": "3.13"}, variables=VARIABLES, **as_github(github))
    failed = job("unit (3.13) / test", "failure", [failing])
    github.this_run(running_job(name="unit (3.11) / test"), running_job(name="unit (3.12) / test"), failed)
    second = run_act(checkout, "ci.yml", matrix={"python": "3.12"}, variables=VARIABLES, **as_github(github))
    github.this_run(running_job(name="unit (3.11) / test"), job("unit (3.12) / test", "success"), failed)
    third = run_act(checkout, "ci.yml", matrix={"python": "3.11"}, variables=VARIABLES, **as_github(github))

    key = f"{KEY_PREFIX}:Unit:unit (%s) / test:main"  # act names a called workflow by its own name
    assert events(stand_in) == [
        (
            "firing",
            key % "3.13",
            'Unit / unit (3.13) / test failed at step "Run tests" on main in octo-org/octo-repo',
        ),
        ("resolved", key % "3.11", "Unit / unit (3.11) / test passed on main in octo-org/octo-repo"),
    ], first.log + second.log + third.log
    assert first.annotations("warning") == third.annotations("warning") == []
    (warning,) = second.annotations("warning")
    assert "none of them could be told to be this one" in warning.data
    assert warning.data.endswith(messages.JOB_NOT_FOUND_FIX_ACT)
    (held,) = second.annotations("notice")
    assert held.data == messages.LEG_FAILED.format(leg="unit (3.13) / test")
    assert second.report()["status"] == "skipped"


def test_tag_runs_share_one_alert_the_next_good_tag_resolves(
    checkout: Checkout, stand_in: IncidentIoStandIn
) -> None:
    checkout.workflow("release.yml", one_job(stand_in.url, name="Release"))
    bad = run_act(checkout, "release.yml", payload={"ref": "refs/tags/v1.2.0"}, secrets=SECRETS)
    checkout.workflow("release.yml", one_job(stand_in.url, "true", name="Release"))
    good = run_act(checkout, "release.yml", payload={"ref": "refs/tags/v1.2.1"}, secrets=SECRETS)

    key = "github-actions-tag:octo-org/octo-repo:Release:test"
    assert events(stand_in) == [
        ("firing", key, "Release / test failed for tag v1.2.0 in octo-org/octo-repo"),
        ("resolved", key, "Release / test passed for tag v1.2.1 in octo-org/octo-repo"),
    ], bad.log + good.log


def test_a_forks_pull_request_sends_nothing_and_passes_without_secrets(
    checkout: Checkout, stand_in: IncidentIoStandIn
) -> None:
    checkout.workflow("ci.yml", one_job(stand_in.url, on="pull_request"))
    payload = layouts.pull_request("fix", fork_owner="someone").event
    run = run_act(checkout, "ci.yml", "pull_request", payload=payload)

    assert stand_in.received == []
    report = run.report()
    assert (report["outcome"], report["status"], report["sent"]) == ("success", "skipped", "false"), run.log
    (notice,) = run.annotations("notice")
    assert "This run is on someone:fix (a fork)" in notice.data


# -- what a user notices first ---------------------------------------------------------------------------


def test_a_dry_run_needs_no_secrets_and_shows_the_alert(
    checkout: Checkout, stand_in: IncidentIoStandIn
) -> None:
    checkout.workflow(
        "ci.yml",
        one_job(stand_in.url, **{"dry-run": "true"})
        .replace("          api-token: ${{ secrets.INCIDENT_IO_ALERT_TOKEN }}\n", "")
        .replace('          dry-run: "false"\n', ""),
    )
    run = run_act(checkout, "ci.yml")

    assert stand_in.received == []
    report = run.report()
    assert (report["outcome"], report["status"], report["sent"]) == ("success", "firing", "false"), run.log
    assert report["payload"]["title"] == "CI / test failed on main in octo-org/octo-repo"
    assert report["payload"]["deduplication_key"] == report["key"] == f"{KEY_PREFIX}:CI:test:main"
    (notice,) = run.annotations("notice")
    assert notice.data == messages.DRY_RUN_MESSAGE


def test_bad_input_fails_the_step_with_one_annotation_naming_it(
    checkout: Checkout, stand_in: IncidentIoStandIn
) -> None:
    text = one_job(stand_in.url, **{"max-attempts": "99"}).replace(
        "      - id: alert\n", "      - id: alert\n        continue-on-error: true\n"
    )
    checkout.workflow("ci.yml", text)
    run = run_act(checkout, "ci.yml", secrets=SECRETS)

    assert stand_in.received == []
    (error,) = run.annotations("error")
    assert (
        error.data
        == "Input 'max-attempts' (INCIDENT_IO_MAX_ATTEMPTS) must be a whole number from 1 to 10; got '99'."
    )
    report = run.report()
    assert (report["outcome"], report["status"], report["sent"]) == ("failure", "", "false")
    assert_no_traceback(run)


HOSTILE_LINES = [
    "Fix the release ::error::injected error",
    "::error::injected error",
    "::add-mask::injected",
    "::set-output name=sent::true",
    "::stop-commands::zzz",
    "##[set-output name=status;]resolved",
    "%0A::warning::encoded",
    "  ::notice::leading spaces",
    "status<<EOF",
    "resolved",
    "EOF",
]


def test_a_hostile_commit_message_changes_no_output(checkout: Checkout, stand_in: IncidentIoStandIn) -> None:
    """The commit's message, in the event payload and passed as the title, is data: the outputs are what they
    would be without it, no command of it is acted on, and the title is its first line, with a notice."""
    message = "\n".join(HOSTILE_LINES)
    checkout.workflow("ci.yml", one_job(stand_in.url, title="${{ github.event.head_commit.message }}"))
    sha = checkout.commit(message)
    payload = {"ref": "refs/heads/main", "after": sha, "head_commit": {"id": sha, "message": message}}
    run = run_act(checkout, "ci.yml", payload=payload, secrets=SECRETS)

    report = run.report()
    assert (report["outcome"], report["status"], report["sent"], report["key"]) == (
        "success", "firing", "true", f"{KEY_PREFIX}:CI:test:main"
    ), run.log  # fmt: skip
    assert set(report["outputs"]) == {
        "deduplication-key",
        "status",
        "sent",
        "message",
        "response",
        "payload",
        "error",
        "heartbeat",
    }
    (body,) = stand_in.bodies()
    assert body["title"] == HOSTILE_LINES[0]
    assert f"[`{sha[:7]}`]" in body["description"]
    annotations = sorted(
        (command.name, command.properties.get("title", ""))
        for command in run.commands()
        if command.step == "alert" and command.name in ("error", "warning", "notice")
    )
    assert annotations == [("notice", ""), ("warning", messages.GITHUB_API_TITLE)]  # act gives no token
    written = sorted(command.properties["name"] for command in run.annotations("set-output"))
    assert written == sorted(report["outputs"])  # each output once: no value wrote another
    (notice,) = run.annotations("notice")
    assert notice.data.startswith(f"The title input has {len(HOSTILE_LINES)} lines")
    assert "injected" not in json.dumps([command.data for command in run.commands("add-mask")])


def test_a_local_run_never_pages_by_surprise(checkout: Checkout, stand_in: IncidentIoStandIn) -> None:
    """With the real secrets in act's `.secrets`, a failing local run of main would page on-call: under act,
    dry-run defaults to true and a notice says how to send. The token warning says what applies under act."""
    checkout.workflow("ci.yml", one_job(stand_in.url).replace('          dry-run: "false"\n', ""))
    run = run_act(checkout, "ci.yml", secrets=SECRETS, variables=VARIABLES)

    assert stand_in.received == []
    report = run.report()
    assert (report["outcome"], report["status"], report["sent"]) == ("success", "firing", "false"), run.log
    (notice,) = run.annotations("notice")
    assert notice.data == messages.DRY_RUN_UNDER_ACT
    assert report["message"] == messages.DRY_RUN_UNDER_ACT
    (warning,) = run.annotations("warning")
    assert warning.data.startswith("github-token is empty")
    assert warning.data.endswith(messages.GITHUB_FIX_UNDER_ACT)
    assert "Leave github-token at its default" not in warning.data


def test_every_line_reaches_the_runner_whole_while_threads_ask_github(
    checkout: Checkout, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """The action asks GitHub for many runs' jobs side by side, each thread logging its request: before, act
    read `::debug::GET .../jobs {...}::debug::GET .../runs/1 {}` as one line, several times a run. Every
    request the stand-in received has its own whole `::debug::` command in act's log."""
    checkout.workflow("ci.yml", one_job(stand_in.url, **{"failures-before-alert": "10"}))
    github.this_run(running_job(step("Run tests", "failure")))
    github.history(*["failure"] * 12)
    run = run_act(checkout, "ci.yml", verbose=True, variables=VARIABLES, **as_github(github))

    requested = sorted(request.path.split("?")[0] for request in github.received)
    logged = sorted(
        command.data.split(" ")[1].removeprefix(github.url).split("?")[0]
        for command in run.commands("debug")
        if command.data.startswith("GET ")
    )
    # This run's jobs and the list side by side, then the 9 earlier runs the streak needs, 8 at a time.
    assert len(requested) >= 11
    assert logged == requested, run.log
    assert all("::" not in command.name for command in run.commands()), [c.name for c in run.commands()]
    assert len(stand_in.bodies()) == 1


# -- the release path: a release's action.yml names its image by digest ------------------------------------


@pytest.mark.container
def test_a_releases_action_is_pulled_by_digest_and_run_by_act(
    tmp_path: Path, stand_in: IncidentIoStandIn
) -> None:
    """The release rehearsal pushes the image to a local registry and writes the release's action.yml
    (`image: docker://127.0.0.1:5000/...@sha256:...`). act, given a checkout holding that action.yml alone,
    pulls the image by its digest instead of building anything, and the alert goes out. So does
    examples/prebuilt-image.yml (`uses: docker://` with that digest)."""
    require_registry()
    rehearsal = rehearse(tmp_path / "rehearsal", log=lambda _line: None)
    image = f"{rehearsal.repository}@{rehearsal.digest}"
    released = Checkout(tmp_path / "released", action_yml=rehearsal.action_yml.read_text(encoding="utf-8"))
    released.workflow("ci.yml", one_job(stand_in.url))
    released.workflow(
        "prebuilt.yml", as_copied("prebuilt-image.yml", stand_in.url, {"make test": "exit 1"}, image=image)
    )
    local = subprocess.run(
        ["docker", "image", "ls", "--quiet", rehearsal.repository], capture_output=True, text=True, check=True
    )
    subprocess.run(
        ["docker", "image", "rm", "--force", *set(local.stdout.split())], capture_output=True, check=True
    )

    by_action_yml = run_act(released, "ci.yml", secrets=SECRETS)
    by_docker_uses = run_act(released, "prebuilt.yml", secrets=SECRETS, variables=VARIABLES)

    key = f"{KEY_PREFIX}:CI:test:main"
    title = "CI / test failed on main in octo-org/octo-repo"
    assert events(stand_in) == [("firing", key, title), ("firing", key, title)], (
        by_action_yml.log + by_docker_uses.log
    )
    assert f"docker pull image={image}" in by_action_yml.log
    assert "docker build" not in by_action_yml.log + by_docker_uses.log
    assert by_action_yml.report()["sent"] == by_docker_uses.report()["sent"] == "true"
