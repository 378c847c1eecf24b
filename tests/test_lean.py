"""Lean: the image a fresh runner pulls is small and holds only what the action runs; the most frequent
run, a skip, loads no HTTP stack; TLS works as before, with certifi's bundle or a proxy's own CA."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SOURCE_ID, TOKEN
from tests.support import layouts
from tests.support.actions_runner import StepFiles, process_environment, write_event
from tests.support.container import run_container_step, stripped_estimate
from tests.support.incident_io_stand_in import IncidentIoStandIn

HTTP_STACK = ("requests", "urllib3", "http.client", "ssl", "entrypoint.github_api", "entrypoint.incident_io")
MAX_COMPRESSED_MB = 20.0


def imported_modules(tmp_path: Path, layout: layouts.Layout, with_: dict[str, str]) -> set[str]:
    """The modules a step imports, as `python -X importtime` lists them."""
    files = StepFiles(tmp_path / "step")
    write_event(files, layout.event, layout.github_env)
    env = process_environment(files, with_, github_env=layout.github_env)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "entrypoint"],
        env=env,
        cwd=files.workspace,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }


def test_a_skip_loads_no_http_stack(tmp_path: Path, with_: dict[str, str]) -> None:
    """A feature branch's run, the most frequent in real use, sends nothing and imports nothing to send."""
    skipped = imported_modules(tmp_path / "skip", layouts.push("feature/login"), {})
    fired = imported_modules(tmp_path / "fire", layouts.push(), with_)

    assert not set(HTTP_STACK) & skipped
    assert set(HTTP_STACK) - {"entrypoint.github_api"} <= fired  # the control: sending loads them


# -- the image -----------------------------------------------------------------------------------------------


def docker_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "run", "--rm", *args], capture_output=True, text=True, check=False, timeout=60
    )


@pytest.mark.container
def test_the_image_has_no_shell_and_no_pip_and_debugs_with_python_c(image: str) -> None:
    shell = docker_run("--entrypoint", "/bin/sh", image, "-c", "true")
    python = docker_run(
        "--entrypoint", "/usr/local/bin/python", image, "-c",
        "import certifi, os, pydantic, requests, entrypoint\n"
        "assert os.path.getsize(certifi.where()) > 100_000  # certifi's CA bundle\n"
        "from importlib.util import find_spec; print(find_spec('pip'), find_spec('ensurepip'))",
    )  # fmt: skip

    assert shell.returncode != 0  # no shell to run
    assert python.returncode == 0, python.stderr
    assert python.stdout.strip() == "None None"


@pytest.mark.container
def test_the_released_image_is_at_most_20_mb_compressed(image: str) -> None:
    """All layers, base included (FROM scratch: every layer is the action's), as a fresh runner pulls
    them; estimated for the official base where this machine's is an unstripped stand-in."""
    assert stripped_estimate(image) / 1e6 <= MAX_COMPRESSED_MB


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A certificate authority and a certificate it signed for 127.0.0.1, as a TLS-inspecting proxy has."""
    names = ("ca.key", "ca.pem", "key.pem", "req.pem", "cert.pem")
    ca_key, ca, key, request, certificate = (folder / name for name in names)
    extensions = folder / "extensions"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    for command in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=Inspecting proxy CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", certificate,
         "-days", "2", "-extfile", extensions],
    ):  # fmt: skip
        subprocess.run(["openssl", *map(str, command)], capture_output=True, check=True, timeout=60)
    return ca, certificate, key


@pytest.mark.container
def test_tls_is_verified_and_a_proxys_ca_is_trusted_through_requests_ca_bundle(
    image: str, files: StepFiles, tmp_path: Path
) -> None:
    ca, certificate, key = make_ca(tmp_path)
    (files.workspace / "proxy-ca.pem").write_bytes(ca.read_bytes())  # checked out with the repository
    tls = IncidentIoStandIn(token=TOKEN, source_id=SOURCE_ID).serve_tls(str(certificate), str(key))
    with tls:
        with_ = {"api-token": TOKEN, "alert-source-config-id": SOURCE_ID, "api-url": tls.url}
        with_["max-attempts"] = "1"
        untrusted = run_container_step(files, with_)
        files.output.write_text("")
        trusted = run_container_step(
            files, with_, step_env={"REQUESTS_CA_BUNDLE": "/github/workspace/proxy-ca.pem"}
        )
        accepted = tls.accepted

    assert untrusted.returncode == 1
    assert "its TLS certificate is not trusted" in untrusted.outputs["error"]
    assert trusted.returncode == 0, trusted.log
    assert trusted.outputs["sent"] == "true"
    assert accepted == 1
