# The action's image: the interpreter, the parts of its standard library the action uses, the hash-pinned
# requirements and the entrypoint package, with the shared libraries they load, and nothing else: no
# shell, no pip, no apt. A release pushes it to GHCR and its action.yml names it by digest; from main
# (`uses: ./`, `@main`, forks) the runner builds it. It runs as root (no USER): the runner's files need it.

# Build stage: the official slim Python, where the runtime is assembled (container/assemble.py finds the
# interpreter, its prefix and its libraries here; nothing of this base's layout is assumed).
FROM python:3.12-slim AS build

# Hash-pinned wheels only; no bytecode yet (assemble.py compiles exactly what the image keeps).
COPY requirements.txt /action/requirements.txt
RUN PYTHONDONTWRITEBYTECODE=1 pip install --no-cache-dir --no-compile --disable-pip-version-check \
        --root-user-action=ignore --require-hashes --no-deps --only-binary=:all: -r /action/requirements.txt

COPY container/assemble.py /assemble.py
COPY entrypoint/ /action/entrypoint/
# The runtime into /rootfs, then a dry run from it, outside GitHub Actions: the assembled interpreter
# must start, import the action and build an alert, or the build fails here rather than in a job.
RUN python -I /assemble.py /rootfs /action \
 && INCIDENT_IO_TITLE=build INCIDENT_IO_DEDUPLICATION_KEY=build INCIDENT_IO_DRY_RUN=true \
    chroot /rootfs /usr/local/bin/python -I -X utf8 -m entrypoint > /dev/null

FROM scratch
COPY --from=build /rootfs/ /
ENV LANG=C.UTF-8 PATH=/usr/local/bin
# -I (isolated): ignore PYTHON* variables from the workflow and never put the current directory (the
# user's workspace) on sys.path, so nothing in the workspace is imported; the .pth file puts /action on
# the path instead. -u: unbuffered, so log lines keep their order. -X utf8: UTF-8 whatever the locale.
ENTRYPOINT ["/usr/local/bin/python", "-I", "-u", "-X", "utf8", "-m", "entrypoint"]
