"""Across runs: never resolve while the job is red, never page about a job that is green now.

Runs overlap, a re-run keeps its number, a slow old run ends last, a failed job can end up cancelled, a
needed job can be skipped because of another's failure, a reusable workflow's legs look alike, a watched
run on a tag looks like a branch, a comment can start a run. Each test runs the action as a process
against incident.io's and GitHub's stand-ins, with GitHub answering as its REST API does.
"""

from __future__ import annotations

import time
from typing import Any

from tests.support import layouts
from tests.support.github_api_stand_in import (
    THIS_RUN_NUMBER,
    THIS_RUNNER,
    FakeRun,
    GitHubApiStandIn,
    job,
    not_accessible,
    step,
    this_job,
)
from tests.support.incident_io_stand_in import IncidentIoStandIn
from tests.support.layouts import Layout
from tests.support.schema import assert_valid_body
from tests.support.steps import Steps, assert_skipped, notice

MAIN_KEY = "github-actions:octo-org/octo-repo:ci.yml:test:main"
RUNS_URL = "https://github.com/octo-org/octo-repo/actions/runs"


def statuses(stand_in: IncidentIoStandIn) -> list[str]:
    return [body["status"] for body in stand_in.bodies()]


def restricted(github: GitHubApiStandIn) -> None:
    """A token that may read nothing (no `actions: read`): every call GitHub answers 403."""
    github.script_for("/repos/", *[not_accessible()] * 6)


# -- 1. a newer run still in progress ------------------------------------------------------------------------


def test_a_newer_run_still_going_whose_job_failed_keeps_the_page_open(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """#18's test failed and fired while its slow e2e job goes on; then the slower #17's test passes."""
    github.this_run(this_job())
    newer = github.newer_run(
        job("test", "failure", [step("Run pytest", "failure")]),
        job("e2e", None, status="in_progress"),
    )

    result = steps.run(layouts.push(), "success")

    assert_skipped(
        result, stand_in, f"A newer run of CI / test on main failed (run #18: {RUNS_URL}/{newer.run_id})"
    )


def test_a_newer_run_whose_job_has_not_finished_is_passed_over(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(this_job())
    github.newer_run(job("test", None, status="in_progress"))

    result = steps.run(layouts.push(), "success")

    assert result.returncode == 0, result.log
    assert statuses(stand_in) == ["resolved"]


def test_the_streak_counts_an_earlier_run_still_going_by_how_this_job_ended(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.history("success", number=THIS_RUN_NUMBER - 2)  # #15 passed
    github.this_run(this_job(step("Run pytest", "failure")))
    earlier = github.earlier_run(job("test", "failure"), job("e2e", None, status="in_progress"))

    counted = steps.run(layouts.push(), "failure", **{"failures-before-alert": "2"})
    earlier.attempts[1][0].update(status="in_progress", conclusion=None)  # control: #16's test still runs
    passed_over = steps.run(layouts.push(), "failure", **{"failures-before-alert": "2"})

    assert counted.returncode == passed_over.returncode == 0, counted.log + passed_over.log
    (body,) = stand_in.bodies()
    assert body["metadata"]["consecutive_failures"] == 2
    assert notice(passed_over).startswith("1 of 2 consecutive failures of CI / test on main")


def test_a_slow_run_ending_last_completes_the_streak_the_newer_failures_began(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """#16 passed; #18 failed while #17 was still going (1 of 2: held back); then slow #17 fails too. Main has
    failed twice in a row, #17 and #18: the failure pages, its streak counting the newer failure."""
    github.history("success", number=THIS_RUN_NUMBER - 1)  # #16 passed
    github.this_run(this_job(step("Run pytest", "failure")))
    github.newer_run(job("test", "failure", [step("Run pytest", "failure")]), conclusion="failure")

    result = steps.run(layouts.push(), "failure", **{"failures-before-alert": "2"})

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert body["status"] == "firing"
    assert body["metadata"]["consecutive_failures"] == 2


# -- 2. an old run that fails after a newer one passed -------------------------------------------------------


def test_an_old_run_failing_after_a_newer_run_passed_sends_nothing(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """#18 passed (and resolved); then a re-run of #17, which keeps its number, fails."""
    github.this_run(this_job(step("Run pytest", "failure")), attempt=2)
    newer = github.newer_run(job("test", "success"), conclusion="success")

    result = steps.run(layouts.push(GITHUB_RUN_ATTEMPT="2"), "failure")

    assert_skipped(
        result, stand_in, f"A newer run of CI / test on main passed (run #18: {RUNS_URL}/{newer.run_id})"
    )
    assert "this older run's failure says nothing about the branch now" in notice(result)
    assert result.outputs["deduplication-key"] == MAIN_KEY
    assert "Nothing sent" in result.summary


def test_an_old_run_failing_after_a_newer_run_failed_too_fires(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(this_job(step("Run pytest", "failure")), attempt=2)
    github.newer_run(job("test", "failure"), conclusion="failure")

    result = steps.run(layouts.push(GITHUB_RUN_ATTEMPT="2"), "failure")

    assert result.returncode == 0, result.log
    assert statuses(stand_in) == ["firing"]


def test_a_watcher_does_not_page_about_an_old_run_when_a_newer_one_passed(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    watched = layouts.watched_run("failure", run_number=163, run_attempt=2)  # a re-run of #163 failed
    github.add_run(
        FakeRun(
            layouts.WATCHED_RUN_ID + 1, "success", run_number=164, workflow_id=layouts.WATCHED_WORKFLOW_ID
        ),
        jobs=[job("test", "success")],
    )

    result = steps.run(watched, "success")

    assert_skipped(result, stand_in, "A newer run of CI on main passed (run #164")


# -- 3. a job that failed and was then cancelled -------------------------------------------------------------


def test_a_job_that_failed_and_then_hit_its_timeout_fires_naming_the_step(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """The runner reports the job as cancelled whatever failed before: its steps tell."""
    github.this_run(
        this_job(
            step("Set up job"),
            step("Run pytest", "failure"),
            step("Integration", "cancelled"),  # hung until timeout-minutes
            step("incident.io alert", None, "in_progress"),
        )
    )

    result = steps.run(layouts.push(), "cancelled")

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert_valid_body(body)
    assert body["status"] == "firing"
    assert body["title"] == 'CI / test failed at step "Run pytest" on main in octo-org/octo-repo'
    assert body["metadata"]["conclusion"] == "cancelled"
    assert body["deduplication_key"] == MAIN_KEY
    assert "a step failed, then the job was cancelled" in result.stdout


def test_a_cancel_with_no_failed_step_sends_nothing(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(this_job(step("Set up job"), step("Integration", "cancelled")))

    result = steps.run(layouts.push(), "cancelled")

    # Issue 29: 4 minutes into a job whose limit is GitHub's default (360): no timeout, and it says so.
    assert_skipped(result, stand_in, "The job was cancelled (by a person, the API or concurrency) after 4m")
    assert "of its 360-minute timeout-minutes, which is not a timeout, so nothing is sent" in notice(result)
    assert result.github_api_warnings() == []


def test_a_cancel_whose_steps_cannot_be_read_follows_on_cancelled(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    restricted(github)

    result = steps.run(layouts.push(), "cancelled")

    assert_skipped(
        result, stand_in, "whether it hit its timeout-minutes could not be told, so nothing is sent"
    )
    (warning,) = result.github_api_warnings()
    assert "whether the job hit its timeout-minutes, or a step failed before it was cancelled" in warning
    assert "actions: read" in warning


# -- 4. on-cancelled: fire reaches the history ---------------------------------------------------------------


def test_with_on_cancelled_fire_repeated_timeouts_reach_failures_before_alert(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.history("success", "cancelled")  # #15 passed, #16 timed out
    github.this_run(this_job())

    fire = steps.run(layouts.push(), "cancelled", **{"on-cancelled": "fire", "failures-before-alert": "2"})
    # Control: with skip (the default), #16's cancel is passed over and #15's success ends the streak.
    skip = steps.run(layouts.push(), "failure", **{"failures-before-alert": "2"})

    assert fire.returncode == skip.returncode == 0, fire.log + skip.log
    (body,) = stand_in.bodies()
    assert body["metadata"]["consecutive_failures"] == 2
    assert notice(skip).startswith("1 of 2 consecutive failures")


def test_with_on_cancelled_fire_an_older_green_run_does_not_resolve_a_newer_timeout(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(this_job())
    github.newer_run(job("test", "cancelled"), conclusion="cancelled")  # #18 timed out

    fire = steps.run(layouts.push(), "success", **{"on-cancelled": "fire"})
    skip = steps.run(layouts.push(), "success")  # control: a cancel is passed over

    assert "A newer run of CI / test on main failed (run #18" in notice(fire)
    assert skip.returncode == 0, skip.log
    assert statuses(stand_in) == ["resolved"]


# -- 5. needs sees past its direct dependencies --------------------------------------------------------------


def notify_job() -> Layout:
    return layouts.push(GITHUB_JOB="notify")


def notify_running() -> dict[str, Any]:
    return job("notify", None, status="in_progress", runner_name=THIS_RUNNER)


def test_a_failure_behind_a_skipped_needed_job_fires_and_names_it(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """deploy needs test; test failed, so deploy was skipped; notify needs lint and deploy."""
    github.this_run(
        job("lint", "success"),
        job("test", "failure", [step("Run pytest", "failure")]),
        job("deploy", "skipped"),
        notify_running(),
    )

    both = steps.run(notify_job(), "success", needs=layouts.needs(lint="success", deploy="skipped"))
    only_deploy = steps.run(notify_job(), "success", needs=layouts.needs(deploy="skipped"))

    assert both.returncode == only_deploy.returncode == 0, both.log + only_deploy.log
    for body in stand_in.bodies():
        assert body["status"] == "firing"
        assert body["title"] == 'CI / test failed at step "Run pytest" on main in octo-org/octo-repo'
        assert body["metadata"]["failed_jobs"] == ["test"]
        assert body["deduplication_key"] == "github-actions:octo-org/octo-repo:ci.yml:notify:main"
    assert len(stand_in.bodies()) == 2


def test_a_needed_job_that_failed_and_then_was_cancelled_fires(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(
        job("e2e", "cancelled", [step("Cypress", "failure"), step("Upload", "cancelled")]), notify_running()
    )

    result = steps.run(notify_job(), "success", needs=layouts.needs(e2e="cancelled"))

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert body["status"] == "firing"
    assert body["title"] == 'CI / e2e failed at step "Cypress" on main in octo-org/octo-repo'


def test_a_skipped_needed_job_never_resolves_when_github_cannot_list_the_jobs(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    restricted(github)

    result = steps.run(notify_job(), "success", needs=layouts.needs(lint="success", deploy="skipped"))

    assert_skipped(result, stand_in, "Not every needed job succeeded (deploy skipped)")
    assert "an alert is never resolved on a guess" in notice(result)
    (warning,) = result.github_api_warnings()
    assert (
        "whether a job of this run failed behind a skipped or cancelled needed job could not be checked"
        in warning
    )


def test_every_needed_job_passing_resolves_without_asking_for_the_jobs(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    restricted(github)  # only the newer runs would be looked at: a warning, and the resolve goes ahead

    result = steps.run(notify_job(), "success", needs=layouts.needs(lint="success", deploy="success"))

    assert result.returncode == 0, result.log
    assert statuses(stand_in) == ["resolved"]


# -- 6. a reusable workflow called by a matrix ---------------------------------------------------------------

LEG_312, LEG_313 = "unit (3.12) / test", "unit (3.13) / test"


def leg(name: str, check_run_id: int, *steps_: dict[str, Any]) -> dict[str, Any]:
    """A called workflow's job, as GitHub's API names it: `<caller job> / <called job>`."""
    called = job(name, None, list(steps_), status="in_progress", runner_name=f"GitHub Actions {check_run_id}")
    called["id"] = check_run_id
    return called


def test_the_legs_of_a_called_workflow_have_keys_of_their_own(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """Inside the called workflow GITHUB_JOB is `test` and the matrix is null for both legs."""
    github.this_run(leg(LEG_312, 1001, step("pytest", "failure")), leg(LEG_313, 1002))
    failed = steps.run(layouts.push(), "failure", check_run_id="1001")
    passed = steps.run(layouts.push(), "success", check_run_id="1002")
    # The next run: leg 3.12 passes, under the same key as its failure.
    next_run = github.newer_run(leg(LEG_312, 2001), leg(LEG_313, 2002))
    next_env = {"GITHUB_RUN_ID": str(next_run.run_id), "GITHUB_RUN_NUMBER": str(next_run.run_number)}
    fixed = steps.run(layouts.push(**next_env), "success", check_run_id="2001")

    assert failed.returncode == passed.returncode == fixed.returncode == 0
    fired, other_leg, resolved = stand_in.bodies()
    assert fired["deduplication_key"] == "github-actions:octo-org/octo-repo:ci.yml:unit (3.12) / test:main"
    assert fired["title"] == 'CI / unit (3.12) / test failed at step "pytest" on main in octo-org/octo-repo'
    assert (
        other_leg["deduplication_key"] == "github-actions:octo-org/octo-repo:ci.yml:unit (3.13) / test:main"
    )
    assert (resolved["status"], resolved["deduplication_key"]) == ("resolved", fired["deduplication_key"])
    assert fired["metadata"]["job"] == "test"  # GITHUB_JOB, as documented


def test_an_ordinary_jobs_key_does_not_change(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(this_job(name="Unit tests"))  # a display name without ` / `

    result = steps.run(layouts.push(), "failure")

    assert result.returncode == 0, result.log
    assert stand_in.bodies()[0]["deduplication_key"] == MAIN_KEY


def test_when_github_cannot_be_read_a_leg_falls_back_to_the_called_jobs_id(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    restricted(github)

    result = steps.run(layouts.push(), "failure", check_run_id="1001")

    assert result.returncode == 0, result.log
    assert stand_in.bodies()[0]["deduplication_key"] == MAIN_KEY
    assert len(result.github_api_warnings()) == 1


def test_without_a_check_run_id_a_leg_is_found_by_what_it_is_doing(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """act and older GitHub Enterprise Server give no check run id, and here no runner name matches: the
    failing leg is the one in progress with a failed step, the green one the one in progress without."""
    github.this_run(leg(LEG_312, 1001, step("pytest", "failure")), leg(LEG_313, 1002))

    failed = steps.run(layouts.push(), "failure", check_run_id="")
    passed = steps.run(layouts.push(), "success", check_run_id="")

    assert failed.warnings_besides_github_api() == passed.warnings_besides_github_api() == []
    assert failed.github_api_warnings() == passed.github_api_warnings() == []
    keys = [body["deduplication_key"] for body in stand_in.bodies()]
    assert keys == [f"github-actions:octo-org/octo-repo:ci.yml:{name}:main" for name in (LEG_312, LEG_313)]


def test_a_leg_nothing_tells_apart_warns_and_never_resolves_another_legs_failure(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """Two green legs in progress, a third failed: this one shares the fallback key, so it warns, and its
    success does not resolve (that key may hold the failed leg's alert). A control: with all legs green,
    it resolves, still warning."""
    failed_leg = job("unit (3.11) / test", "failure", [step("pytest", "failure")])
    github.this_run(leg(LEG_312, 1001), leg(LEG_313, 1002), failed_leg)
    held = steps.run(layouts.push(), "success", check_run_id="")
    assert_skipped(held, stand_in, "could not be told apart from 'unit (3.11) / test'")
    github.this_run(leg(LEG_312, 1001), leg(LEG_313, 1002), job("unit (3.11) / test", "success"))
    control = steps.run(layouts.push(), "success", check_run_id="")

    for result in (held, control):
        (warning,) = result.github_api_warnings()
        assert "none of them could be told to be this one (check-run-id is empty" in warning
        assert "Leave check-run-id at its default" in warning
    assert [(body["status"], body["deduplication_key"]) for body in stand_in.bodies()] == [
        ("resolved", MAIN_KEY)
    ]


# -- 7. a watched run on a tag -------------------------------------------------------------------------------

TAG_KEY = "github-actions-tag:octo-org/octo-repo:ci.yml"


def watched_tag_run(tag: str, conclusion: str, run_number: int) -> Layout:
    return layouts.watched_run(
        conclusion, head_branch=tag, run_number=run_number, run_id=layouts.WATCHED_RUN_ID + run_number
    )


def test_a_watched_run_on_a_tag_is_a_tag_run_and_the_next_good_tag_resolves_it(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    bad, good = watched_tag_run("v1.2.0", "failure", 170), watched_tag_run("v1.2.1", "success", 171)
    github.tags["v1.2.0"] = bad.event["workflow_run"]["head_sha"]  # a lightweight tag
    github.annotated_tags["v1.2.1"] = good.event["workflow_run"]["head_sha"]

    fired = steps.run(bad, "success")
    resolved = steps.run(good, "success")

    assert fired.returncode == resolved.returncode == 0, fired.log + resolved.log
    first, second = stand_in.bodies()
    assert (first["status"], second["status"]) == ("firing", "resolved")
    assert first["deduplication_key"] == second["deduplication_key"] == TAG_KEY
    assert first["title"] == "CI failed for tag v1.2.0 in octo-org/octo-repo"


def test_a_branch_named_like_a_version_stays_a_branch(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    run = watched_tag_run("v1.x", "failure", 170)  # no such tag
    elsewhere = watched_tag_run("v1.2.0", "failure", 171)
    github.tags["v1.2.0"] = "0" * 40  # the tag points at another commit: not this run's tag

    for result in (steps.run(run, "success"), steps.run(elsewhere, "success")):
        assert_skipped(result, stand_in, "which branches (the default branch, main) does not include")
        assert "contents: read" not in notice(result)


def test_when_github_cannot_tell_tags_apart_the_notice_says_what_it_needs(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.script_for("/git/", not_accessible())

    result = steps.run(watched_tag_run("v1.2.0", "failure", 170), "success")

    assert_skipped(result, stand_in, "This run is on v1.2.0, which branches")
    assert "telling tags apart needs `contents: read`" in notice(result)


# -- 8. ChatOps ----------------------------------------------------------------------------------------------


def test_a_run_started_by_a_comment_never_speaks_for_main(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    for layout in (
        layouts.issue_comment(),
        layouts.issue_comment(on_pull_request=False),
        layouts.watched_run("failure", event="issue_comment"),
    ):
        result = steps.run(layout, "failure", branches="*")
        assert_skipped(result, stand_in, "This run was started by a comment (ChatOps)")
        assert "set deduplication-key" in notice(result)
    assert github.received == []  # nothing was asked of GitHub either


def test_a_run_started_by_a_comment_alerts_under_the_key_the_step_gives(
    steps: Steps, stand_in: IncidentIoStandIn
) -> None:
    result = steps.run(layouts.issue_comment(), "failure", **{"deduplication-key": "chatops:octo-repo:test"})

    assert result.returncode == 0, result.log
    (body,) = stand_in.bodies()
    assert (body["status"], body["deduplication_key"]) == ("firing", "chatops:octo-repo:test")


def test_a_comment_started_run_never_counts_for_the_branch(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(this_job())
    github.newer_run(job("test", "failure"), conclusion="failure", event="issue_comment")

    result = steps.run(layouts.push(), "success")

    assert result.returncode == 0, result.log
    assert statuses(stand_in) == ["resolved"]


# -- 9. GitHub's order is not trusted ------------------------------------------------------------------------


def test_runs_are_ordered_by_their_number_not_by_githubs_list(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.run_order = "oldest"
    github.this_run(this_job())
    github.newer_run(job("test", "failure"), conclusion="failure", after=1)  # #18 failed
    github.newer_run(job("test", "success"), conclusion="success", after=2)  # #19 passed: it decides

    result = steps.run(layouts.push(), "success")

    assert result.returncode == 0, result.log
    assert statuses(stand_in) == ["resolved"]


# -- 10. one rule judges every run: this one, newer ones, earlier ones -------------------------------------


def failed_then_cancelled(name: str = "test") -> dict[str, Any]:
    """A job whose step failed, then hit its timeout: GitHub concludes it, and its run, cancelled."""
    return job(name, "cancelled", [step("Run pytest", "failure"), step("Clean up", "cancelled")])


def test_a_notify_job_does_not_resolve_over_a_newer_run_that_failed_then_was_cancelled(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """#18's test failed, then its timeout cancelled it: the run concluded `cancelled`, and #18's notify job
    fired. The slower #17, all green, must not resolve that page: #18 is judged by its jobs, as #17 is."""
    github.this_run(job("build", "success"), job("test", "success"), notify_running())
    newer = github.newer_run(
        job("build", "success"), failed_then_cancelled(), job("notify", "success"), conclusion="cancelled"
    )

    result = steps.run(notify_job(), "success", needs=layouts.needs(build="success", test="success"))

    assert_skipped(result, stand_in, f"A newer run of CI on main failed (run #18: {RUNS_URL}/{newer.run_id})")


def test_a_watcher_fires_for_a_watched_run_whose_job_failed_before_it_was_cancelled(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """The watched run concluded `cancelled` (a timeout after a failure): its jobs say it failed, as the
    same job's own last step says. A cancel with nothing failed still sends nothing."""
    watched = layouts.watched_run("cancelled")
    run = FakeRun(
        layouts.WATCHED_RUN_ID, "cancelled", run_number=163, workflow_id=layouts.WATCHED_WORKFLOW_ID
    )
    github.add_run(run, jobs=[job("build", "success"), failed_then_cancelled()])

    fired = steps.run(watched, "success")
    github.add_run(
        run, jobs=[job("build", "success"), job("test", "cancelled", [step("Run pytest", "cancelled")])]
    )
    nothing = steps.run(watched, "success")

    assert fired.returncode == 0, fired.log
    (body,) = stand_in.bodies()
    assert body["status"] == "firing"
    assert body["title"] == 'CI / test failed at step "Run pytest" on main in octo-org/octo-repo'
    assert body["metadata"]["failed_jobs"] == ["test"]
    assert notice(nothing).startswith("The watched workflow run's job was cancelled (by a person, the API or")


def test_a_newer_run_being_re_run_is_judged_by_its_attempt_that_decided(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """#18's test failed and paged; someone re-runs #18. While attempt 2 runs, `filter=latest` shows only
    its jobs, still going: #18 is judged by attempt 1, so the slower #17's success does not resolve."""
    github.this_run(this_job())
    newer = github.newer_run(job("test", "failure", [step("Run pytest", "failure")]), conclusion="failure")
    github.add_run(newer, attempt=2, jobs=[job("test", None, status="in_progress")])
    newer.status, newer.conclusion = "in_progress", None

    result = steps.run(layouts.push(), "success")

    assert_skipped(
        result, stand_in, f"A newer run of CI / test on main failed (run #18: {RUNS_URL}/{newer.run_id})"
    )
    newers = [
        request.path.split("?")[0] for request in github.received if f"/{newer.run_id}/" in request.path
    ]
    runs = f"/repos/octo-org/octo-repo/actions/runs/{newer.run_id}"
    assert newers == [f"{runs}/jobs", f"{runs}/attempts/1/jobs"]  # the latest attempt, then the one before


def test_an_old_failure_does_not_page_while_a_newer_run_that_passed_is_re_run(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    github.this_run(this_job(step("Run pytest", "failure")))
    newer = github.newer_run(job("test", "success"), conclusion="success")
    github.add_run(newer, attempt=2, jobs=[job("test", "cancelled")])  # the re-run was cancelled: undecided
    newer.conclusion = "cancelled"

    result = steps.run(layouts.push(), "failure")

    assert_skipped(
        result, stand_in, f"A newer run of CI / test on main passed (run #18: {RUNS_URL}/{newer.run_id})"
    )


# -- one time budget for every call of the step --------------------------------------------------------------


def test_every_github_call_of_a_step_shares_one_time_budget(
    steps: Steps, stand_in: IncidentIoStandIn, github: GitHubApiStandIn
) -> None:
    """A tag lookup, then the jobs and runs: at 3 s an answer, separate budgets would take 9 s and more."""
    github.delay = 3.0
    started = time.monotonic()

    result = steps.run(watched_tag_run("v1.2.0", "failure", 170), "success", branches="*")

    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.log
    assert statuses(stand_in) == ["firing"]  # a page is never lost to the API
    (warning,) = result.github_api_warnings()
    assert "did not answer within 5 seconds" in warning
    assert elapsed < 7.5
