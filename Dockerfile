# The action's image. A release pushes it to GHCR and its action.yml names it by digest, so jobs pull
# it; from main (`uses: ./`, `@main`, forks) the runner builds it at the start of every job that uses
# the action. Either way it is small and quick, and it runs as root (no USER): the runner's files need it.
FROM python:3.12-slim

# Dependencies first, so a code change rebuilds only the layers after them. Hash-pinned wheels only.
# No bytecode here: pip would otherwise leave ~10 MB of .pyc for itself and the standard library.
# Never imported at run time, so left out: pydantic.v1, the legacy API (1.2 MB); pydantic's mypy plugin;
# the type stubs and py.typed markers that only type checkers read.
COPY requirements.txt /action/requirements.txt
RUN PYTHONDONTWRITEBYTECODE=1 pip install --no-cache-dir --no-compile --disable-pip-version-check \
        --root-user-action=ignore --require-hashes --no-deps --only-binary=:all: -r /action/requirements.txt \
 && site="$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
 && rm -rf "$site/pydantic/v1" "$site/pydantic/mypy.py" \
 && find "$site" \( -name '*.pyi' -o -name py.typed \) -delete \
 && echo /action > "$site/incident_io_alert_action.pth"

COPY entrypoint/ /action/entrypoint/
# Compile exactly what a run imports (ours, the dependencies, the standard library) by running the
# program once, a dry run outside GitHub Actions, so each real run starts from bytecode.
RUN INCIDENT_IO_API_TOKEN=build-placeholder-token INCIDENT_IO_ALERT_SOURCE_CONFIG_ID=build INCIDENT_IO_TITLE=build \
    INCIDENT_IO_DEDUPLICATION_KEY=build INCIDENT_IO_DRY_RUN=true python -I -m entrypoint > /dev/null \
 && python -m compileall -q /action/entrypoint

# -I (isolated): ignore PYTHON* variables from the workflow and never put the current directory (the
# user's workspace) on sys.path, so nothing in the workspace is imported. The .pth file above puts
# /action on the path instead. -u: unbuffered, so log lines keep their order (PYTHONUNBUFFERED is
# ignored under -I).
ENTRYPOINT ["python", "-I", "-u", "-m", "entrypoint"]
