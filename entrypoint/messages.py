"""What the action tells its users, in one place: each message states the cause and the fix."""

from __future__ import annotations

import re

INVALID_SETTINGS_TITLE = "incident.io alert: invalid input"
DELIVERY_FAILED_TITLE = "incident.io alert not delivered"

INVALID_SETTINGS_SUMMARY = (
    "Nothing was sent to incident.io because {count} input(s) are invalid. Each is listed in the "
    "step's log and annotations; fix them in {where}."
)
WHERE_WITH_BLOCK = "the step's with: block"
WHERE_VARIABLES = "the INCIDENT_IO_* variables (the step's env:, or docker run -e)"

HINT_BY_STATUS = {
    400: "incident.io could not read the request; check the metadata and other inputs.",
    401: (
        "Check api-token: it must be the secret token of this alert source (incident.io → Alerts → "
        "Sources → your HTTP source), stored as a repository secret."
    ),
    403: (
        "Check api-token: it must be the secret token of this very alert source; a token of another "
        "source or an API key is refused."
    ),
    404: (
        "Check alert-source-config-id: it must be the id at the end of the source's alert events URL "
        "(…/v2/alert_events/http/<id>), and the source must still exist."
    ),
    413: "The alert is too large; shorten the description or metadata.",
    429: "incident.io's rate limit (120 events a minute per alert source) was hit; spread the alerts out.",
}
HINT_SERVER = "incident.io or a proxy on the way had a problem; it usually passes. Re-run the job later."
HINT_NETWORK = "Check that the runner can reach {host} (firewall, DNS, HTTPS_PROXY / NO_PROXY)."
HINT_TIMEOUT = (
    "Check that the runner can reach {host} (firewall, HTTPS_PROXY / NO_PROXY), or raise timeout-seconds "
    "if it is only slow."
)
HINT_REDIRECT = "Check api-url: it should be https://api.incident.io (or your proxy's exact URL)."
HINT_REJECTED_FIELDS = "incident.io rejected {fields}: check the {inputs} input{s}."
HINT_REJECTED = (
    "incident.io rejected a field of the alert: check title, description, metadata, source-url and "
    "deduplication-key against its message."
)
# The alert's fields in incident.io's errors, and the inputs that set them.
INPUT_OF_FIELD = {
    "title": "title",
    "description": "description",
    "metadata": "metadata",
    "source_url": "source-url",
    "deduplication_key": "deduplication-key",
    "status": "status",
}

FAIL_ON_ERROR_OFF = "fail-on-error is false, so the step does not fail."
RESOLVE_NOT_FATAL = (
    "A resolve that was not delivered does not fail the step (fail-on-error is auto): the alert stays open "
    "until a later green run resolves it."
)

SKIPPED_NOTICE_TITLE = "incident.io alert: nothing sent"

# Which runs may alert (scope.py). Each says why nothing is sent and how to change that.
OUT_OF_SCOPE = (
    "This run is {origin}, which branches ({scope}) does not include, so nothing is sent. To alert for it "
    "too, add {name} to branches."
)
OUT_OF_SCOPE_FORK = (
    "This run is {origin}. Forks are out of scope unless branches lists them ({scope}), so nothing is "
    "sent: a fork can neither page anyone nor resolve this repository's alerts. To alert for it, add "
    "{name} (or *:* for every fork) to branches."
)
OUT_OF_SCOPE_UNVERIFIED = (
    "This run cannot be told apart from a fork's ({reason}), so nothing is sent: it can neither page "
    "anyone nor resolve this repository's alerts. To alert for such runs, add the step to the workflow "
    "itself."
)
SECRETS_WITHHELD = (
    "This run was triggered by {who}, and GitHub gives such runs no secrets, so api-token is empty and "
    "nothing is sent. Runs that branches leaves out need no token at all."
)
JOB_STATUS_MISSING = (
    "is empty, and in GitHub Actions the alert's status cannot be decided without it. With "
    "uses: docker://, pass INCIDENT_IO_JOB_STATUS: ${{ job.status }} in the step's env (action.yml passes "
    "it for you), or pass needs: ${{ toJSON(needs) }}, or set status"
)
BRANCHES_TYPO = (
    "branches names {pattern!r}, which looks like a misspelling of the default branch, {default}: runs on "
    "{default} send nothing, so its failures page nobody. Write {default} if that is what you meant."
)
BRANCHES_TITLE = "incident.io alert: check branches"
OUT_OF_SCOPE_COMMENT = (
    "This run was started by a comment (ChatOps). It runs on the default branch's ref but usually tests a "
    "pull request's code, and anyone who can comment may start one, so it neither pages about nor "
    "resolves a branch's alert, whatever branches says, and nothing is sent. To alert for such runs, set "
    "deduplication-key to say what the alert is about."
)
TAG_UNKNOWN = (
    " The run's head branch may be a tag, but GitHub's API could not tell ({reason}): telling tags apart "
    "needs `contents: read` in the watcher's `permissions:`."
)
NEWER_RUN_FAILED = (
    "A newer run of {subject} failed (run #{number}: {url}), so this run's success does not resolve the "
    "alert and nothing is sent."
)
NEWER_RUN_PASSED = (
    "A newer run of {subject} passed (run #{number}: {url}), so this older run's failure says nothing about "
    "the branch now, and nothing is sent."
)
NEWER_RUN_UNREAD = (
    "A newer run of {subject} (run #{number}: {url}) could not be judged, as GitHub's API did not give its "
    "jobs, and it may have failed, so this run's success does not resolve the alert and nothing is sent: an "
    "alert is never resolved on a guess."
)
NEEDS_UNKNOWN = (
    "Not every needed job succeeded ({needs}), which can hide a failed job upstream (needs lists direct "
    "dependencies only), and GitHub's API could not tell whether a job of this run failed, so nothing is "
    "sent: an alert is never resolved on a guess."
)
NEEDS_CANCELLED = (
    "Not every needed job succeeded ({needs}) and no job of this run failed: a cancelled run neither fires "
    "nor resolves, so nothing is sent (on-cancelled: fire alerts on it)."
)
GITHUB_MISSING_NEWER = (
    "whether a newer run of {subject} failed could not be checked, and the alert is resolved because "
    "this run passed"
)
GITHUB_MISSING_NEWER_PASSED = (
    "whether a newer run of {subject} has passed since could not be checked, and the alert fires because "
    "this run failed"
)
GITHUB_MISSING_RUN_JOBS = (
    "whether a job of this run failed behind a skipped or cancelled needed job could not be checked, so "
    "nothing is sent"
)
GITHUB_MISSING_NEWER_UNREAD = (
    "the jobs of the newer run #{number} of {subject} could not be read, so this run's success resolves "
    "nothing"
)
GITHUB_MISSING_WATCHED_STEPS = (
    "whether a job of the watched run failed before it was cancelled could not be checked, so the cancel "
    "is taken as on-cancelled says"
)
GITHUB_MISSING_TIMEOUT = (
    "whether the job hit its timeout-minutes, or a step failed before it was cancelled, could not be "
    "checked, "
    "so nothing is sent (on-cancelled: fire pages on every cancel)"
)
GITHUB_MISSING_STEPS = (
    "whether a step failed before the job was cancelled could not be checked, so the cancel is taken as "
    "on-cancelled says"
)
LEG_FAILED = (
    "This job could not be told apart from {leg!r} in GitHub's API, which failed in this run, and the two "
    "share one key, so this leg's success does not resolve that failure's alert and nothing is sent."
)
JOB_NOT_FOUND = (
    "GitHub's API lists this run's jobs, but none of them could be told to be this one ({why}), so the alert "
    "cannot name this job's failed steps, other runs are judged as whole runs, and a called workflow's legs "
    "share one key (a green leg does not resolve while another leg has failed). {fix}"
)
JOB_NOT_FOUND_FIX = (
    "Leave check-run-id at its default, ${{ job.check_run_id }} (GitHub Enterprise Server versions without "
    "it find the job by its runner); to tell a called workflow's legs apart yourself, set deduplication-key."
)
JOB_NOT_FOUND_FIX_ACT = (
    "act sets no job.check_run_id and no runner name: to tell a called workflow's legs apart under act, set "
    "deduplication-key (for example from the caller's inputs)."
)
TITLE_CUT = (
    "The title input has {lines} lines, and an alert's title is one line, so only its first line is sent; "
    "put the rest in description."
)
DRY_RUN_MESSAGE = "The alert was built and validated, and not sent: dry-run is true."
DRY_RUN_UNDER_ACT = (
    "This run is a local run of act (ACT=true), where dry-run defaults to true so that no local run pages "
    "anyone: the alert was built and validated, and not sent. To send it, set dry-run: false."
)
DRY_RUN_TITLE = "incident.io alert: dry run"
DRY_RUN_PING = "A heartbeat ping would be sent to {host}; nothing was sent: dry-run is true."
HEARTBEAT_SENT = "incident.io accepted the heartbeat ping (HTTP {code})."
HEARTBEAT_FAILED_TITLE = "incident.io heartbeat not pinged"
HEARTBEAT_NOT_FATAL = (
    "An undelivered ping does not fail the step (fail-on-error: true fails it): if pings stay away longer "
    "than the heartbeat's interval and grace, the heartbeat source alerts."
)
HEARTBEAT_ONLY_PINGED = "The heartbeat was pinged; no alert source is set, so no alert event was sent."
HEARTBEAT_ONLY_FAILED = (
    "No alert source is set (api-token and alert-source-config-id are empty), only a heartbeat, so this "
    "run sends nothing and does not ping: if no green run pings it within its interval and grace, the "
    "heartbeat source alerts."
)
HEARTBEAT_HINT_BY_STATUS = {
    401: (
        "Check heartbeat-token: it must be the secret token of this very heartbeat source (incident.io → "
        "Alerts → Sources → your heartbeat source); an HTTP source's token does not ping it."
    ),
    403: (
        "Check heartbeat-token: it must be the secret token of this very heartbeat source; another "
        "source's token, or an API key, is refused."
    ),
    404: (
        "Check heartbeat-source-config-id: it must be the id in the source's ping URL "
        "(…/v2/heartbeat/<id>/ping), and the source must still exist."
    ),
}
SENT_MESSAGE = "incident.io accepted the {status} alert (HTTP {code})."
INTERNAL_ERROR = (
    "The action hit an unexpected error ({kind}). Nothing more was sent. Please report it with the "
    "step's log (debug logging shows details)."
)


def delivery_hint(status_code: int | None, host: str, *, timed_out: bool, fields: list[str]) -> str:
    """What to do about an undelivered alert: one or two sentences."""
    if status_code is None:
        return (HINT_TIMEOUT if timed_out else HINT_NETWORK).format(host=host)
    if status_code == 422:
        return rejected_fields_hint(fields)
    if status_code in HINT_BY_STATUS:
        return HINT_BY_STATUS[status_code]
    if 300 <= status_code < 400:
        return HINT_REDIRECT
    if status_code >= 500:
        return HINT_SERVER
    return "Check the inputs against incident.io's answer above."


def heartbeat_hint(status_code: int | None, host: str, *, timed_out: bool) -> str:
    """What to do about an undelivered heartbeat ping."""
    if status_code in HEARTBEAT_HINT_BY_STATUS:
        return HEARTBEAT_HINT_BY_STATUS[status_code]
    return delivery_hint(status_code, host, timed_out=timed_out, fields=[])


def rejected_fields_hint(fields: list[str]) -> str:
    """Name the inputs behind the fields incident.io rejected (`deduplication_key` → deduplication-key)."""
    names = [re.split(r"[./\[]", field.lstrip("/$."), maxsplit=1)[0] for field in fields]
    known = [name for name in dict.fromkeys(names) if name in INPUT_OF_FIELD]
    if not known:
        return HINT_REJECTED
    inputs = [INPUT_OF_FIELD[name] for name in known]
    return HINT_REJECTED_FIELDS.format(
        fields=" and ".join(known), inputs=" and ".join(inputs), s="s" if len(inputs) > 1 else ""
    )


def duration(seconds: int) -> str:
    """`4m 12s`, `1h 5m`, `38s`."""
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s" if minutes else f"{seconds}s"


def one_line(text: str, limit: int) -> str:
    """Text on one line (whitespace runs become one space), cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def github_warning(reason: str, fix: str, missing: list[str], api_url: str | None) -> str:
    """The one warning about GitHub's API: why it could not help, what that left out, and the fix."""
    if api_url is not None:
        reason = f"GitHub's API at {api_url} could not help: {reason}"
    if not missing:
        missing = [GITHUB_MISSING_NOTHING]
    return f"{reason}, so {'; '.join(missing)}. {fix}"


def sentences(*parts: str) -> str:
    """Parts joined as separate sentences: each ends with a full stop (or its own punctuation)."""
    done = []
    for part in filter(None, (part.strip() for part in parts)):
        done.append(part if part[-1] in ".!?" else part + ".")
    return " ".join(done)


# GitHub's API: it only adds detail, so its failures are warnings that say what was missing.
GITHUB_NOT_GIVEN = "github-token is empty"
GITHUB_FIX_UNAUTHORIZED = (
    "Leave github-token at its default, ${{ github.token }}, or pass a token that can read Actions, and "
    "grant `actions: read` in the workflow's or job's `permissions:`."
)
GITHUB_FIX_PERMISSION = (
    "Grant `actions: read` in the workflow's or job's `permissions:`: the default token of repositories "
    "and organisations created since February 2023 cannot read Actions, and a `permissions:` block "
    "without it takes it away."
)
GITHUB_FIX_UNDER_ACT = (
    "Under act, github-token is empty unless act is given one (act -s GITHUB_TOKEN=...), and GitHub's API "
    "has no record of a local run: on GitHub the alert gets this detail from the run itself, with "
    "`actions: read` in `permissions:`."
)
GITHUB_FIX_NETWORK = "Check that the runner can reach GITHUB_API_URL (proxy, firewall)."
GITHUB_FIX_NONE = "This usually passes by itself; nothing needs to change."
NEWER_RUNS_UNREACHED = (
    "Not resolved: GitHub's list of {subject}'s runs did not reach this run within the pages read, so "
    "newer runs may have failed since; the next run on the branch resolves the alert if it passes."
)
RUNS_CUT = "its list of this workflow's runs did not reach {what} within the {runs} runs read"
RUNS_CUT_NEWER = "this run (a re-run of an old one?), so the runs newer than it were not compared"
RUNS_CUT_EARLIER = "the earlier runs failures-before-alert counts"
GITHUB_FIX_RUNS_CUT = (
    "GitHub promises no order for the list; the action reads a few pages of it and no more, to spare the "
    "repository's rate limit. Nothing needs to change unless this recurs."
)
BUDGET_SKIPPED_STREAK = "the earlier runs beyond the {streak} that failures-before-alert needs"
BUDGET_SKIPPED_STREAK_UNCOUNTED = (
    "the earlier runs beyond the {streak} that failures-before-alert needs, so it fired without counting "
    "the failures in a row (a run among those {streak} did not decide)"
)
BUDGET_SKIPPED_ERRORS = "the failed jobs' error messages"
BUDGET_LOW = (
    "The github-token has {remaining} of its {limit} requests an hour left, which this repository's "
    "workflows and actions share: to spare them, this alert did not read {skipped}. It was still judged "
    "on everything that decides it."
)
BUDGET_TITLE = "GitHub's rate limit is running low"
GITHUB_FIX_RATE_LIMIT = (
    "The github-token's requests are counted per repository (1,000 an hour for a workflow's token on "
    "github.com), shared by every workflow and action there: it passes when the limit resets."
)
GITHUB_FIX_SECONDARY_LIMIT = (
    "GitHub slows down a token that sends many requests at once (its secondary rate limits); this is not "
    "about permissions, and it passes by itself within a minute or so."
)
GITHUB_MISSING_JOBS = "the alert does not list the failed jobs and steps"
GITHUB_MISSING_ERRORS = "the alert does not quote the failed jobs' error messages"
GITHUB_ERRORS_FORBIDDEN = (
    "GitHub's API at {base_url} did not let the github-token read the failed jobs' error messages "
    "(HTTP {status}), so the alert does not quote them. Grant `checks: read` in the workflow's or job's "
    "`permissions:`: private repositories need it to read check run annotations."
)
GITHUB_MISSING_NOTHING = "this job could not be found in it (a called workflow's legs then share one key)"
GITHUB_MISSING_HISTORY = (
    "failures-before-alert ({needed}) could not be checked and the alert fires anyway, so that a real "
    "failure is not missed"
)
GITHUB_HISTORY_UNKNOWN = (
    "Earlier runs could not be compared ({reason}), so failures-before-alert ({needed}) could not be "
    "checked and the alert fires anyway, so that a real failure is not missed."
)
HELD_BACK = (
    "{consecutive} of {needed} consecutive failures of {subject}: failures-before-alert is {needed}, so "
    "nothing is sent yet."
)
GITHUB_API_TITLE = "incident.io alert: less detail from GitHub"
UNKNOWN_VARIABLE_TITLE = "incident.io alert: unknown setting"
VARIABLES_IGNORED = (
    "{variables} {are} set in the step's environment (by env:, or by an earlier step through $GITHUB_ENV) "
    "and ignored: in a workflow only the step's with: sets this action's inputs, so that nothing an earlier "
    "step writes can send the token elsewhere, change the status or silence the alert. {fix}"
)
VARIABLES_IGNORED_FIX = "Set {inputs} under with: if that is what you meant."
VARIABLES_IGNORED_TITLE = "incident.io alert: variable ignored"
UNUSED_WITH_STATUS = (
    "status is {status}, so every run sends a {status} alert and {inputs} {have} no say in it, nor do newer "
    "runs of the job: they decide the status only with status: auto, the default. Leave status at auto for "
    "them to apply, or remove {inputs}."
)
INPUTS_TITLE = "incident.io alert: check inputs"


# What a cancel was (cancels.py). Where the job's workflow file cannot tell its timeout-minutes:
DEFINITION_UNKNOWN = "which workflow file defines the job (GITHUB_WORKFLOW_REF and job-workflow are empty)"
DEFINITION_WITHOUT_GITHUB = (
    "the workflow file {file}: github-token is empty, and the workspace holds no checkout of that commit"
)
DEFINITION_UNREAD = (
    "the workflow file {file}: GitHub's API could not give it ({reason}; it needs `contents: read`)"
)
DEFINITION_UNREADABLE = "the workflow file {file}: {reason}"
DEFINITION_NO_JOB = "which job of {file} it is (a `name:` the action cannot match)"
CANCEL_TIMED_OUT = "the job timed out{after} (its timeout-minutes{limit})"
CANCEL_NOT_TIMEOUT = (
    "{subject} was cancelled {cause}{after}, which is not a timeout, so nothing is sent: only a job that "
    "hits its timeout-minutes pages (on-cancelled: timeout; fire pages on every cancel)."
)
CANCEL_CAUSES = {
    "superseded": "because a newer run took its place ({detail}; concurrency)",
    "person": "by {detail}",
    "fail-fast": "because the matrix leg {detail} failed (fail-fast)",
    "cancel": "(by a person, the API or concurrency)",
}
CANCEL_UNKNOWN = (
    "{subject} was cancelled, and whether it hit its timeout-minutes could not be told, so nothing is sent: "
    "the action could not read {missing}. on-cancelled: fire pages on every cancel (timeouts, superseded "
    "runs and manual cancels alike)."
)
CANCEL_UNKNOWN_NO_JOBS = "when this job started and was cancelled (GitHub's API did not list the run's jobs)"
CANCEL_SKIP = (
    "The job was cancelled; nothing is sent (on-cancelled is skip: timeout pages on a timeout, fire on any "
    "cancel)."
)
ALLOWED_TO_FAIL = (
    "The job failed, but its own continue-on-error allows it to (for this leg), and its run stays green, so "
    "nothing is sent. To alert on it anyway, set status: firing for this job."
)
RUNNER_LOST = "lost its runner"
