"""Issue 29: a job that timed out pages; a run superseded by `concurrency`, cancelled by a person or stopped
by fail-fast never does, by default (`on-cancelled: timeout`), in every layout and across runs.

GitHub says `cancelled` for all four. In-job (the last step of the cancelled job) the action tells them apart
by timing: how long the job ran before the cancel (its steps' times in the jobs list) against its
`timeout-minutes` (the workflow file that defines it). A notify job and a watcher run after the job ended and
read its check run's annotations, which say why. Other runs are judged by timing alone. Each test is the
action as a process against incident.io's and GitHub's stand-ins. act applies no `timeout-minutes`: the
real-runner tier cannot show a timeout, so these tests hold the timing GitHub gives.
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

import yaml

from tests.support import layouts
from tests.support.actions_runner import JOB_WORKFLOW, ROOT, WORKFLOW_SHA
from tests.support.cancels import (
    BY_CONCURRENCY,
    BY_PERSON,
    CI,
    LOST,
    TIMED_OUT_NEWER,
    TIMED_OUT_RUNNER,
    cancelled_here,
    cancelled_job,
)
from tests.support.github_api_stand_in import (
    THIS_RUNNER,
    FakeRun,
    GitHubApiStandIn,
    annotation,
    job,
    step,
    workflow_with,
)
from tests.support.incident_io_stand_in import IncidentIoStandIn
from tests.support.steps import Steps, assert_skipped, notice


def statuses(stand_in: IncidentIoStandIn) -> list[str]:
    return [body["status"] for body in stand_in.bodies()]


def warning_about_the_cancel(result: Any) -> str:
    (warning,) = [w.data for w in result.warnings_besides_github_api()]
    return str(warning)


# -- 1. the last step of the cancelled job: timing -------------------------------------------------------


def test_a_job_cancelled_at_its_timeout_pages_naming_the_timeout(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.files[CI] = workflow_with(test={"timeout-minutes": 30})
    github.this_run(cancelled_here(30.1))

    result = steps.run(layouts.push(), "cancelled")

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert body["status"] == "firing"
    assert body["title"].startswith("CI / test timed out after 30m ")
    assert body["title"].endswith(" on main in octo-org/octo-repo")
    assert body["metadata"]["conclusion"] == "timed_out"
    assert "the job timed out after 30m" in result.stdout


def test_a_job_cancelled_well_before_its_timeout_by_a_newer_run_sends_nothing_naming_it(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.files[CI] = workflow_with(test={"timeout-minutes": 30})
    github.this_run(cancelled_here(4))
    github.newer_run(job("test", None, status="in_progress"))

    result = steps.run(layouts.push(), "cancelled")

    assert_skipped(
        result, stand_in, "The job was cancelled because a newer run took its place (run #18; concurrency)"
    )
    assert "of its 30-minute timeout-minutes, which is not a timeout, so nothing is sent" in notice(result)


def test_a_matrix_leg_stopped_by_fail_fast_sends_nothing_and_names_the_failed_leg(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.files[CI] = workflow_with(
        test={"timeout-minutes": 30, "strategy": {"matrix": {"python": ["3.12", "3.13"]}}}
    )
    github.this_run(
        job("test (3.13)", "failure", [step("Run pytest", "failure")]), cancelled_here(2, name="test (3.12)")
    )

    result = steps.run(layouts.push(), "cancelled", matrix={"python": "3.12"})

    assert_skipped(
        result, stand_in, "The job was cancelled because the matrix leg test (3.13) failed (fail-fast)"
    )


def test_a_job_cancelled_by_hand_sends_nothing(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(cancelled_here(12))  # ci.yml sets no timeout-minutes: GitHub's 360

    result = steps.run(layouts.push(), "cancelled")

    assert_skipped(result, stand_in, "The job was cancelled (by a person, the API or concurrency) after 12m")


def test_a_timeout_read_from_the_matrix_leg(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """`timeout-minutes: ${{ matrix.slow && 60 || 20 }}`: the fast leg's limit is 20, the slow one's 60."""
    github.files[CI] = workflow_with(
        test={
            "timeout-minutes": "${{ matrix.slow && 60 || 20 }}",
            "strategy": {"matrix": {"slow": [True, False]}},
        }
    )
    github.this_run(cancelled_here(20.2))
    fast = steps.run(layouts.push(), "cancelled", matrix={"slow": False})
    slow = steps.run(layouts.push(), "cancelled", matrix={"slow": True})

    assert fast.returncode == slow.returncode == 0
    assert statuses(stand_in) == ["firing"]  # the fast leg timed out; the slow one was cancelled at 20 of 60
    assert "of its 60-minute timeout-minutes, which is not a timeout" in notice(slow)


def test_a_limit_the_action_cannot_evaluate_sends_nothing_with_one_warning(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.files[CI] = workflow_with(test={"timeout-minutes": "${{ inputs.limit }}"})
    github.this_run(cancelled_here(30.1))

    result = steps.run(layouts.push(), "cancelled")

    assert result.returncode == 0, result.log
    assert stand_in.received == []
    warning = warning_about_the_cancel(result)
    assert "whether it hit its timeout-minutes could not be told, so nothing is sent" in warning
    assert "its timeout-minutes (${{ inputs.limit }}) cannot be evaluated here: it reads inputs" in warning
    assert "on-cancelled: fire pages on every cancel" in warning


def test_a_workflow_file_that_cannot_be_read_sends_nothing_with_one_warning(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    del github.files[CI]  # GitHub answers 404: no such file, or no contents: read
    github.this_run(cancelled_here(30.1))

    result = steps.run(layouts.push(), "cancelled")

    assert stand_in.received == []
    warning = warning_about_the_cancel(result)
    assert (
        f"the workflow file .github/workflows/ci.yml at {WORKFLOW_SHA[:7]}: GitHub's API could not give it"
        in warning
    )
    assert "contents: read" in warning


def test_a_github_hosted_job_past_six_hours_timed_out_whatever_its_file_says(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.files[CI] = workflow_with(test={"timeout-minutes": 1000})
    github.this_run(cancelled_here(360.5))

    result = steps.run(layouts.push(), "cancelled")

    assert statuses(stand_in) == ["firing"], result.log
    assert stand_in.bodies()[0]["title"].startswith("CI / test timed out after 6h 0m")


def test_a_reusable_workflows_leg_is_timed_by_the_called_workflows_own_file(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """`job-workflow` (job.workflow_*) names the called file; the caller's ci.yml has no job `test`."""
    github.files[CI] = workflow_with(unit={"uses": "./.github/workflows/called.yml"})
    github.files[".github/workflows/called.yml"] = workflow_with(test={"timeout-minutes": 15})
    github.this_run(cancelled_here(15.1, name="unit / test"))

    result = steps.run(
        layouts.push(), "cancelled", **{"job-workflow": JOB_WORKFLOW.replace("ci.yml", "called.yml")}
    )

    assert statuses(stand_in) == ["firing"], result.log
    assert stand_in.bodies()[0]["title"].startswith("CI / unit / test timed out after 15m")


def test_the_workflow_file_is_read_from_the_workspace_when_it_holds_that_commit(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """No request for the file where actions/checkout left that very commit in the workspace."""
    del github.files[CI]
    workspace = steps.tmp_path / f"step{steps.count + 1}" / "workspace"  # the next step's GITHUB_WORKSPACE
    (workspace / ".github" / "workflows").mkdir(parents=True)
    (workspace / CI).write_text(workflow_with(test={"timeout-minutes": 30}))
    git = ["git", "-C", str(workspace), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "ci"], check=True)
    sha = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    github.this_run(cancelled_here(30.1))

    result = steps.run(layouts.push(), "cancelled", **{"job-workflow": f"octo-org/octo-repo/{CI}@{sha}"})

    assert statuses(stand_in) == ["firing"], result.log
    assert not any("/contents/" in request.path for request in github.received)


def test_on_cancelled_skip_keeps_the_old_rule(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.files[CI] = workflow_with(test={"timeout-minutes": 30})
    github.this_run(cancelled_here(30.1))

    result = steps.run(layouts.push(), "cancelled", **{"on-cancelled": "skip"})

    assert_skipped(result, stand_in, "The job was cancelled; nothing is sent (on-cancelled is skip")


# -- 2. a notify job with needs: the needed jobs' annotations ------------------------------------------------


def notify_job() -> layouts.Layout:
    return layouts.push(GITHUB_JOB="notify")


def notify_running() -> dict[str, Any]:
    return job("notify", None, status="in_progress", runner_name=THIS_RUNNER)


def test_a_notify_job_pages_for_a_needed_job_that_timed_out_naming_it(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    (build, _test, _notify) = github.this_run(
        cancelled_job("build", 30.1), job("test", "skipped"), notify_running()
    )
    github.annotations[build["id"]] = [
        annotation(TIMED_OUT_RUNNER),
        annotation("The operation was canceled."),
    ]

    result = steps.run(notify_job(), "success", needs=layouts.needs(build="cancelled", test="skipped"))

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert body["status"] == "firing"
    assert body["title"].startswith("CI / build timed out after 30m")
    assert body["metadata"]["failed_jobs"] == ["build"]


def test_a_notify_job_sends_nothing_for_a_needed_job_superseded_by_concurrency(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    (build, _notify) = github.this_run(cancelled_job("build", 3), notify_running())
    github.annotations[build["id"]] = [annotation(BY_CONCURRENCY)]

    result = steps.run(notify_job(), "success", needs=layouts.needs(build="cancelled"))

    assert_skipped(
        result,
        stand_in,
        "A needed job was cancelled because a newer run took its place "
        "(group 'ci-refs/heads/main'; concurrency)",
    )


def test_a_notify_job_times_a_needed_job_where_its_annotations_say_nothing(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.files[CI] = workflow_with(build={"timeout-minutes": 45}, notify={"needs": "build"})
    github.this_run(cancelled_job("build", 45.2), notify_running())

    result = steps.run(notify_job(), "success", needs=layouts.needs(build="cancelled"))

    assert statuses(stand_in) == ["firing"], result.log
    assert stand_in.bodies()[0]["title"].startswith("CI / build timed out after 45m")


def test_a_notify_job_pages_for_a_lost_runner_and_says_so(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    lost = job("deploy", "failure", [step("Set up job"), step("Deploy", "cancelled")])
    github.this_run(lost, notify_running())
    github.annotations[lost["id"]] = [annotation(LOST)]

    result = steps.run(notify_job(), "success", needs=layouts.needs(deploy="failure"))

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert body["title"] == "CI / deploy lost its runner on main in octo-org/octo-repo"
    assert "lost communication with the server" in body["description"]


# -- 3. a workflow_run watcher --------------------------------------------------------------------------


def test_a_watcher_pages_for_a_watched_run_cancelled_at_a_jobs_timeout(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    run = FakeRun(
        layouts.WATCHED_RUN_ID, "cancelled", run_number=163, workflow_id=layouts.WATCHED_WORKFLOW_ID
    )
    test = cancelled_job("test", 30.05)
    github.add_run(run, jobs=[job("build", "success"), test])
    github.annotations[test["id"]] = [annotation(TIMED_OUT_NEWER)]

    result = steps.run(layouts.watched_run("cancelled"), "success")

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert body["status"] == "firing"
    assert body["title"].startswith("CI / test timed out after 30m")


def test_a_watcher_sends_nothing_for_a_run_a_person_cancelled(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    run = FakeRun(
        layouts.WATCHED_RUN_ID, "cancelled", run_number=163, workflow_id=layouts.WATCHED_WORKFLOW_ID
    )
    test = cancelled_job("test", 8)
    github.add_run(run, jobs=[job("build", "success"), test])
    github.annotations[test["id"]] = [annotation(BY_PERSON)]

    result = steps.run(layouts.watched_run("cancelled"), "success")

    assert_skipped(result, stand_in, "The watched workflow run's job was cancelled by @octocat after 8m")


def test_a_watcher_pages_for_a_lost_runner_and_says_so(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    run = FakeRun(layouts.WATCHED_RUN_ID, "failure", run_number=163, workflow_id=layouts.WATCHED_WORKFLOW_ID)
    lost = job("test", "failure", [step("Set up job"), step("Run pytest", "cancelled")])
    github.add_run(run, jobs=[job("build", "success"), lost])
    github.annotations[lost["id"]] = [annotation(LOST)]

    result = steps.run(layouts.watched_run("failure"), "success")

    assert stand_in.bodies()[0]["title"] == "CI / test lost its runner on main in octo-org/octo-repo", (
        result.log
    )


# -- 4. a job allowed to fail -------------------------------------------------------------------------------


def test_a_matrix_leg_allowed_to_fail_sends_nothing_and_says_why(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.files[CI] = workflow_with(
        test={
            "continue-on-error": "${{ matrix.experimental }}",
            "strategy": {"matrix": {"experimental": [True, False]}},
        }
    )
    github.this_run(
        job("test", None, [step("Run pytest", "failure")], status="in_progress", runner_name=THIS_RUNNER)
    )

    experimental = steps.run(layouts.push(), "failure", matrix={"experimental": True})
    assert_skipped(experimental, stand_in, "its own continue-on-error allows it to (for this leg)")
    stable = steps.run(layouts.push(), "failure", matrix={"experimental": False})

    assert stable.returncode == 0, stable.log
    assert statuses(stand_in) == ["firing"]


# -- 5. a failed step decides a job that still runs, in other runs too -----------------------------------


def test_a_newer_run_whose_job_failed_and_still_runs_holds_a_resolve_back(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """#18's test failed at Run pytest and now hangs in its clean-up until its timeout; #17 passes."""
    github.this_run(job("test", None, status="in_progress", runner_name=THIS_RUNNER))
    github.newer_run(
        job(
            "test",
            None,
            [step("Run pytest", "failure"), step("Clean up", None, "in_progress")],
            status="in_progress",
        )
    )

    result = steps.run(layouts.push(), "success")

    assert_skipped(result, stand_in, "A newer run of CI / test on main failed (run #18")


def test_a_watcher_does_not_resolve_over_a_newer_run_whose_job_failed_and_still_runs(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.add_run(
        FakeRun(layouts.WATCHED_RUN_ID, "success", run_number=163, workflow_id=layouts.WATCHED_WORKFLOW_ID),
        jobs=[job("test", "success")],
    )
    github.add_run(
        FakeRun(
            layouts.WATCHED_RUN_ID + 5,
            None,
            status="in_progress",
            run_number=164,
            workflow_id=layouts.WATCHED_WORKFLOW_ID,
        ),
        jobs=[job("test", None, [step("Run pytest", "failure")], status="in_progress")],
    )

    result = steps.run(layouts.watched_run("success"), "success")

    assert_skipped(result, stand_in, "A newer run of CI on main failed (run #164")


# -- 6. other runs: a timeout counts, a supersede does not -----------------------------------------------


def test_a_timed_out_earlier_run_counts_towards_failures_before_alert(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.files[CI] = workflow_with(test={"timeout-minutes": 30})
    earlier = github.earlier_run(cancelled_job("test", 30.2), conclusion="cancelled")
    github.this_run(
        job("test", None, [step("Run pytest", "failure")], status="in_progress", runner_name=THIS_RUNNER)
    )

    result = steps.run(layouts.push(), "failure", **{"failures-before-alert": "2"})

    assert statuses(stand_in) == ["firing"], result.log
    assert stand_in.bodies()[0]["metadata"]["consecutive_failures"] == 2
    assert earlier.run_number == 16


def test_a_newer_run_that_timed_out_holds_a_resolve_back_and_a_superseded_one_does_not(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.files[CI] = workflow_with(test={"timeout-minutes": 30})
    github.this_run(job("test", None, status="in_progress", runner_name=THIS_RUNNER))
    newer = github.newer_run(cancelled_job("test", 30.2), conclusion="cancelled")
    held = steps.run(layouts.push(), "success")
    assert_skipped(held, stand_in, "A newer run of CI / test on main failed (run #18")
    # The same newer run, had it been superseded 2 minutes in.
    github.add_run(newer, jobs=[cancelled_job("test", 2)])
    resolved = steps.run(layouts.push(), "success")

    assert resolved.returncode == 0, resolved.log
    assert statuses(stand_in) == ["resolved"]


# -- 7. the timeout self-test that CI runs on GitHub's own runner ------------------------------------------


def test_the_timeout_self_test_passes_against_the_real_entrypoint(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """.github/workflows/timeout-self-test.yml as GitHub would run it: its `hang` job cancelled at its
    `timeout-minutes`, the action's step with its own `with:`, this very file served as the job's definition;
    then its `verdict` job's check, in bash, on the outputs."""
    path = ROOT / ".github" / "workflows" / "timeout-self-test.yml"
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    hang, verdict = workflow["jobs"]["hang"], workflow["jobs"]["verdict"]
    github.files[".github/workflows/timeout-self-test.yml"] = path.read_text(encoding="utf-8")
    github.this_run(cancelled_here(hang["timeout-minutes"], name="hang"))
    (alert,) = [step for step in hang["steps"] if step.get("uses") == "./"]
    where = f"octo-org/octo-repo/.github/workflows/timeout-self-test.yml@{WORKFLOW_SHA}"

    result = steps.run(
        layouts.push(GITHUB_JOB="hang"),
        "cancelled",
        **{
            name: str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in alert["with"].items()
        },
        **{"job-workflow": where},
    )

    assert result.returncode == 0, result.log
    outputs = {"result": "cancelled", **result.outputs}
    env = {
        name: re.sub(
            r"\$\{\{ needs\.hang\.(result|outputs\.(\w+)) \}\}",
            lambda m: outputs[m.group(2) or "result"],
            value,
        )
        for name, value in verdict["steps"][0]["env"].items()
    }
    completed = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", verdict["steps"][0]["run"]],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
