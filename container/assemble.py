"""Assemble the action's runtime into a root file system for a `FROM scratch` image.

Runs in the Dockerfile's build stage, on whatever `python:3.12-slim` it is given: every path is found
here (sys, sysconfig, ldd), none is assumed. Into ROOTFS, at the same absolute paths:
- the interpreter, and `/usr/local/bin/python` pointing at it (the image's entrypoint);
- its standard library, without the parts only a shell user, a test suite, a GUI or an installer needs
  (every encoding is kept: charset_normalizer may need any codec);
- site-packages with the hash-pinned requirements (installed before this runs), and the action's
  `entrypoint` package with a `.pth` that puts it on the path under `python -I`;
- every shared library those ELF files load, as `ldd` finds them (a missing one stops the build);
- a minimal /etc (with the loader's cache of those libraries) and /tmp.
Then everything is byte-compiled with unchecked-hash bytecode, so each run starts from bytecode without
checking sources (without it a run costs several times as much).

Usage: python -I assemble.py ROOTFS ACTION_DIR
"""

from __future__ import annotations

import compileall
import os
import py_compile
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

# Never imported by the action or its dependencies.
PRUNED_STDLIB = (
    "ensurepip", "idlelib", "tkinter", "turtledemo", "turtle.py", "test", "pydoc_data", "lib2to3",
    "unittest", "venv", "sqlite3", "curses", "dbm", "__phello__", "site-packages",
)  # fmt: skip
# Extension modules of those, and ones that would bring their own libraries for nothing: `nis` alone
# loads Kerberos and RPC libraries, `readline` the terminal's.
PRUNED_EXTENSIONS = re.compile(
    r"^(_(tkinter|sqlite3|curses|curses_panel|dbm|gdbm|test\w*|ctypes_test|xxtestfuzz|xxsubinterpreters|"
    r"xxinterpchannels|crypt)|nis|readline|spwd|ossaudiodev|xxlimited\w*|xxsubtype)\."
)
PRUNED_SITE_PACKAGES = ("pip", "setuptools", "wheel", "_distutils_hack", "distutils-precedence.pth")
# Of the dependencies: pydantic's v1 API and mypy plugin are never imported; stubs are for type checkers.
PRUNED_FILES = re.compile(r"(^pydantic/v1/|^pydantic/mypy\.py$|\.pyi$|(^|/)py\.typed$|^pip-.*\.dist-info/)")
LDD_LINE = re.compile(r"^\s*(?:\S+ => )?(/\S+) \(0x[0-9a-f]+\)$")
ENTRYPOINT = Path("/usr/local/bin/python")


def main(rootfs: Path, action: Path) -> None:
    executable = Path(os.path.realpath(sys.executable))
    stdlib = Path(sysconfig.get_path("stdlib"))
    site_packages = Path(sysconfig.get_path("purelib"))
    copy_file(executable, rootfs)
    if executable != ENTRYPOINT:
        (rootfs / ENTRYPOINT.relative_to("/")).parent.mkdir(parents=True, exist_ok=True)
        (rootfs / ENTRYPOINT.relative_to("/")).symlink_to(executable)
    copy_tree(stdlib, rootfs, lambda relative: not pruned_stdlib(relative))
    copy_tree(site_packages, rootfs, lambda relative: not pruned_site_package(relative))
    copy_tree(action, rootfs, lambda relative: "__pycache__" not in relative.parts)
    pth = rootfs / site_packages.relative_to("/") / "incident_io_alert_action.pth"
    pth.write_text(f"{action}\n")
    libraries = shared_libraries(rootfs)
    for library in libraries:
        copy_file(library, rootfs)
    minimal_etc(rootfs)
    loader_cache(rootfs, {library.parent for library in libraries})
    byte_compile(rootfs, [stdlib, site_packages, action])


def pruned_stdlib(relative: Path) -> bool:
    first = relative.parts[0] if relative.parts else ""
    if first in PRUNED_STDLIB or first.startswith("config-") or "__pycache__" in relative.parts:
        return True
    return first == "lib-dynload" and bool(PRUNED_EXTENSIONS.search(relative.name))


def pruned_site_package(relative: Path) -> bool:
    first = relative.parts[0] if relative.parts else ""
    top = re.sub(r"-[\d.]+\.dist-info$", "", first)
    if top in PRUNED_SITE_PACKAGES or "__pycache__" in relative.parts:
        return True
    return bool(PRUNED_FILES.search(relative.as_posix()))


def copy_tree(source: Path, rootfs: Path, keep: Callable[[Path], bool]) -> None:
    """`source`'s files that `keep(relative path)` keeps, at the same absolute paths under rootfs."""
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and not path.is_symlink() and keep(relative):
            copy_file(path, rootfs)


def copy_file(path: Path, rootfs: Path) -> None:
    """The file's content (a symlink's target) at the path it is known by, under rootfs."""
    destination = rootfs / path.relative_to("/")
    if destination.exists():
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(os.path.realpath(path), destination)


def shared_libraries(rootfs: Path) -> set[Path]:
    """Every shared library the ELF files under rootfs load (the loader included), as ldd resolves them,
    and libgcc_s, which glibc loads itself when a thread unwinds."""
    libraries: set[Path] = set()
    for path in sorted(rootfs.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.read_bytes()[:4] != b"\x7fELF":
            continue
        listed = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
        if "not found" in listed.stdout:
            raise SystemExit(f"assemble: a library of {path} is missing:\n{listed.stdout}")
        for line in listed.stdout.splitlines():
            if match := LDD_LINE.match(line):
                libraries.add(Path(match.group(1)))
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False).stdout
    libraries |= {Path(found) for found in re.findall(r"libgcc_s\.so\.1 \(.*\) => (\S+)", cache)[:1]}
    return libraries


def minimal_etc(rootfs: Path) -> None:
    """What glibc and Python look up: the resolver's order, who root is; and a /tmp."""
    etc = rootfs / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "nsswitch.conf").write_text("hosts: files dns\npasswd: files\ngroup: files\n")
    (etc / "passwd").write_text("root:x:0:0:root:/root:/nonexistent\n")
    (etc / "group").write_text("root:x:0:\n")
    (rootfs / "tmp").mkdir(mode=0o1777, exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)
    (rootfs / "root").mkdir(mode=0o700, exist_ok=True)


def loader_cache(rootfs: Path, folders: set[Path]) -> None:
    """/etc/ld.so.cache for the new root: the loader finds libpython wherever this base keeps it
    (/usr/local/lib is not one of the loader's own default folders)."""
    (rootfs / "etc" / "ld.so.conf").write_text("".join(f"{folder}\n" for folder in sorted(folders)))
    subprocess.run(["ldconfig", "-r", str(rootfs)], check=True)


def byte_compile(rootfs: Path, folders: list[Path]) -> None:
    for folder in folders:
        compiled = compileall.compile_dir(
            rootfs / folder.relative_to("/"),
            quiet=1,
            workers=0,
            stripdir=str(rootfs),  # tracebacks name /usr/local/..., not the build stage's ROOTFS
            prependdir="/",
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not compiled:
            raise SystemExit(f"assemble: byte-compiling {folder} failed")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
