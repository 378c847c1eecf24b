"""Delivering to incident.io: the alert event, then the heartbeat ping. The one place a delivery failure
becomes an annotation, the outcome's error and an exit code; the caller writes the outcome once, at the end.
"""

from __future__ import annotations

from pydantic import SecretStr

from entrypoint import messages
from entrypoint.alert import Alert
from entrypoint.incident_io import Accepted, Client, DeliveryFailed
from entrypoint.outcome import EXIT_DELIVERY_FAILED, EXIT_OK, Outcome
from entrypoint.runner import Runner
from entrypoint.settings import Settings


def _client(settings: Settings, runner: Runner, url: str, token: SecretStr | None, what: str) -> Client:
    """A client for one of the step's sources, with the step's retries and timeout."""
    return Client(
        url=url,
        # Never empty here: missing_required refused the run before anything was built.
        token=token.get_secret_value() if token else "",
        what=what,
        max_attempts=settings.max_attempts,
        timeout_seconds=settings.timeout_seconds,
        log=runner.untrusted,  # retry lines quote incident.io's answer
        debug=runner.debug,
    )


def _attempts(accepted: Accepted) -> str:
    return f" ({accepted.attempts} attempts)" if accepted.attempts > 1 else ""


def deliver_alert(settings: Settings, alert: Alert, runner: Runner, outcome: Outcome) -> int:
    host = settings.api_host
    client = _client(settings, runner, settings.alert_events_url, settings.api_token, "alert")
    runner.info(f"Sending the {alert.status} alert to {host} ...")
    try:
        accepted = client.send(alert.body_bytes())
    except DeliveryFailed as failure:
        outcome.response = failure.text
        if failure.text:
            with runner.group("incident.io's answer"):
                runner.untrusted(failure.text)
        hint = messages.delivery_hint(
            failure.status_code, host, timed_out=failure.timed_out, fields=failure.error.fields
        )
        fatal = settings.fails_step(alert.status)
        reason = messages.sentences(str(failure), hint)
        return _fail(runner, outcome, reason, fatal=fatal, why_not=_why_not_fatal(settings))
    return _succeed(runner, outcome, accepted)


def ping_heartbeat(settings: Settings, runner: Runner, outcome: Outcome) -> int:
    """One ping to the heartbeat source: a green run says the job is alive. An undelivered ping is a
    warning (with fail-on-error: true, an error that fails the step): the heartbeat's silence will page."""
    host = settings.api_host
    client = _client(
        settings, runner, settings.heartbeat_ping_url, settings.heartbeat_token, "heartbeat ping"
    )
    runner.info(f"Pinging the heartbeat at {host} ...")
    try:
        accepted = client.send(None)
    except DeliveryFailed as failure:
        outcome.heartbeat = "failed"
        hint = messages.heartbeat_hint(failure.status_code, host, timed_out=failure.timed_out)
        reason = messages.sentences(str(failure), hint)
        outcome.error = messages.sentences(outcome.error, reason)
        if settings.fail_on_error == "true":
            runner.error(reason, title=messages.HEARTBEAT_FAILED_TITLE)
            return EXIT_DELIVERY_FAILED
        runner.warning(
            messages.sentences(reason, messages.HEARTBEAT_NOT_FATAL), title=messages.HEARTBEAT_FAILED_TITLE
        )
        return EXIT_OK
    outcome.heartbeat = "sent"
    runner.info(messages.HEARTBEAT_SENT.format(code=accepted.status_code) + _attempts(accepted))
    return EXIT_OK


def _succeed(runner: Runner, outcome: Outcome, accepted: Accepted) -> int:
    outcome.sent = True
    outcome.response = accepted.text
    outcome.deduplication_key = accepted.deduplication_key or outcome.deduplication_key
    outcome.message = messages.SENT_MESSAGE.format(status=outcome.status, code=accepted.status_code)
    outcome.headline = f"✅ Alert sent ({outcome.status})"
    runner.info(outcome.message + _attempts(accepted))
    if accepted.text:
        with runner.group("incident.io's answer"):
            runner.untrusted(accepted.text)
    return EXIT_OK


def _why_not_fatal(settings: Settings) -> str:
    return messages.FAIL_ON_ERROR_OFF if settings.fail_on_error == "false" else messages.RESOLVE_NOT_FATAL


def _fail(runner: Runner, outcome: Outcome, reason: str, *, fatal: bool, why_not: str) -> int:
    outcome.error = reason
    outcome.message = reason if fatal else f"{reason} {why_not}"
    if fatal:
        runner.error(reason, title=messages.DELIVERY_FAILED_TITLE)
        outcome.headline = "❌ Alert not delivered"
        return EXIT_DELIVERY_FAILED
    runner.warning(outcome.message, title=messages.DELIVERY_FAILED_TITLE)
    outcome.headline = "⚠️ Alert not delivered; the step does not fail"
    return EXIT_OK
