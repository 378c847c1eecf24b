"""Which runs may alert at all: the `branches` input against the run's origin.

A run outside the scope sends nothing and needs no secrets, so a feature branch or a fork's pull
request never fails for want of them. The rules (shell-style patterns, `fnmatch`):
- a branch of this repository matches by name; `*` matches every one of them, across `/` too;
- a fork's branch is `owner:branch` and only matches patterns with a `:` (`*:*` for every fork), so
  `*` alone never admits a fork;
- a merge-queue entry is `merge-queue/<target>`: `*` admits it, `main` alone does not;
- tags and deployments are always in scope: a failed release or deploy matters wherever it came from;
- runs started by a comment (ChatOps) never are, unless the step sets its own deduplication-key: they
  run on the default branch's ref but test whatever the comment asked for, and anyone may comment;
- without `branches`, the scope is the repository's default branch, from the event payload; where the
  payload does not say, the run is in scope rather than lose an alert.
"""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase

from entrypoint import messages
from entrypoint.settings import Settings
from entrypoint.workflow_run import WorkflowRun

# A pattern this close to the default branch's name (or the same name in another case) is taken for its
# misspelling: a typo in branches would otherwise silence every alert of the default branch.
MAX_TYPO_EDITS = 2
GLOB_CHARACTERS = frozenset("*?[")


def out_of_scope(
    settings: Settings,
    run: WorkflowRun | None,
    debug: Callable[[str], None] = lambda _line: None,
    tag_unknown: str | None = None,
) -> str | None:
    """Why this run may not alert, or None when it may. `tag_unknown`: why GitHub could not tell whether
    a watched run's head branch is a tag (facts.place_watched_tag)."""
    if run is None:
        return None  # outside GitHub Actions: the user named what the alert is about
    origin = run.origin
    if origin.kind in ("tag", "deployment"):
        return None
    if origin.kind == "unknown":
        debug("The run names no branch or tag, so it is treated as in scope.")
        return None
    if origin.kind == "unverified":
        return messages.OUT_OF_SCOPE_UNVERIFIED.format(reason=origin.reason)
    if origin.kind == "comment":
        return None if settings.deduplication_key else messages.OUT_OF_SCOPE_COMMENT
    patterns = settings.branches
    if patterns is None:
        if run.default_branch is None:
            debug(
                "The event payload does not give this repository's default branch, so the run is treated "
                "as in scope (set branches to choose)."
            )
            return None
        patterns = (run.default_branch,)
        scope = f"the default branch, {run.default_branch}"
    else:
        scope = ", ".join(patterns)
    name = origin.scope_name or ""
    if any(_matches(pattern, name, fork=origin.kind == "fork") for pattern in patterns):
        return None
    template = messages.OUT_OF_SCOPE_FORK if origin.kind == "fork" else messages.OUT_OF_SCOPE
    reason = template.format(origin=origin.where, name=name, scope=scope)
    return reason + (messages.TAG_UNKNOWN.format(reason=tag_unknown) if tag_unknown else "")


def _matches(pattern: str, name: str, *, fork: bool) -> bool:
    """`owner:branch` patterns match only forks' branches, the others only this repository's runs."""
    if (":" in pattern) != fork:
        return False
    if fork:
        owner_pattern, _, branch_pattern = pattern.partition(":")
        owner, _, branch = name.partition(":")
        # GitHub account names are case-insensitive; branch names are not.
        return fnmatchcase(owner.lower(), owner_pattern.lower()) and fnmatchcase(branch, branch_pattern)
    return fnmatchcase(name, pattern)


def misspelt_default_branch(settings: Settings, run: WorkflowRun | None) -> str | None:
    """A warning where `branches` leaves the default branch out and names something that looks like its
    misspelling (`mian`, `Main`), or None. A deliberate scope (`release/*`) is not warned about."""
    default = run.default_branch if run else None
    patterns = settings.branches
    if default is None or patterns is None:
        return None
    if any(_matches(pattern, default, fork=False) for pattern in patterns):
        return None
    for pattern in patterns:
        literal = ":" not in pattern and not GLOB_CHARACTERS & set(pattern)
        if literal and (pattern.lower() == default.lower() or _edits(pattern, default) <= MAX_TYPO_EDITS):
            return messages.BRANCHES_TYPO.format(pattern=pattern, default=default)
    return None


def _edits(a: str, b: str) -> int:
    """The Levenshtein distance: insertions, deletions and substitutions that turn a into b."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def withheld_secrets(settings: Settings, run: WorkflowRun | None) -> str | None:
    """Why a missing api-token is expected here (GitHub gives this run no secrets), or None."""
    if settings.api_token is not None or run is None or not run.secrets_withheld:
        return None
    who = "Dependabot" if run.by_dependabot else f"a pull request from the fork {run.origin.owner}"
    return messages.SECRETS_WITHHELD.format(who=who)
