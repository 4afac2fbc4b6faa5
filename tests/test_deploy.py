"""The deployment kit: the container image's own commands run the way the image runs them
(Docker itself is not needed), the lock file, the systemd unit, `make run`.

The image installs the locked runtime dependencies and the built wheel into a fresh
virtual environment and runs as a non-root user with the database in /data. Here the
same: a wheel is built, a fresh venv gets exactly the locked distributions (taken from the
test venv, offline, instead of downloading them) and the wheel, and the image's CMD and
HEALTHCHECK run from it as uid 65534 (when the suite runs as root) against the fake.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from .conftest import first_page

REPO = Path(__file__).resolve().parent.parent
NOBODY = 65534
TEST_ONLY = {"pytest", "pytest-timeout", "hypothesis", "aiohttp", "pytest-asyncio", "fonttools"}  # pillow: runtime (pictures)


def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text(encoding="utf-8")


def final_stage() -> str:
    return dockerfile().rsplit("\nFROM ", 1)[1]


def exec_form(instruction: str) -> list[str]:
    """The JSON argv of an instruction in the image's final stage (CMD, HEALTHCHECK … CMD)."""
    m = re.search(rf"^{instruction}\b.*?(\[.*\])\s*$", final_stage(), re.M)
    assert m, f"no exec-form {instruction} in the Dockerfile"
    return json.loads(m.group(1))


def locked() -> dict[str, str]:
    out = {}
    for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            out[name.strip()] = version.strip()
    return out


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_requirements() -> list[Requirement]:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(r) for r in project["dependencies"]]


# -- the lock -----------------------------------------------------------------------------
def test_the_lock_pins_every_runtime_dependency_within_the_ranges_and_nothing_for_tests():
    lock = {canonical(k): v for k, v in locked().items()}
    for req in runtime_requirements():
        assert canonical(req.name) in lock, f"{req.name} is not in requirements.lock"
        assert req.specifier.contains(lock[canonical(req.name)]), f"{req.name}=={lock[canonical(req.name)]} is outside {req}"
    assert not TEST_ONLY & set(lock), "test-only packages in the deployment lock"
    assert "socksio" in lock  # the SOCKS5 support TELEGRAM_PROXY needs


def test_the_withdrawn_qrcode_release_is_excluded():
    (qrcode,) = [r for r in runtime_requirements() if r.name == "qrcode"]
    assert not qrcode.specifier.contains("7.4")  # yanked: broken for QR codes of size 8 and more
    assert qrcode.specifier.contains("7.4.1") and locked()["qrcode"] != "7.4"


def test_the_test_venv_runs_the_locked_versions():
    """`make test` installs with the lock as constraints, so the suite tests what deploys."""
    for name, version in locked().items():
        assert metadata.version(name) == version, f"{name}: venv has {metadata.version(name)}, lock says {version}"


# -- make run -----------------------------------------------------------------------------
def test_make_run_on_a_clean_clone_installs_no_test_only_package(tmp_path):
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(REPO / name, tmp_path / name)
    run = subprocess.run(["make", "-n", "run"], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    installs = [line for line in run.stdout.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs == [".venv/bin/pip install -q -c requirements.lock -e ."]
    assert "[test]" not in run.stdout and "eport-guide run" in run.stdout
    test = subprocess.run(["make", "-n", "test"], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert "-c requirements.lock -e '.[test]'" in test.stdout  # the runtime packages at the locked versions too


# -- the Dockerfile, compose.yaml and the systemd unit, as text ----------------------------
def base_image() -> str:
    """The image both stages start FROM: the PYTHON_IMAGE build argument's default."""
    text = dockerfile()
    froms = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert froms == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"], froms  # one base for the build and the final stage
    return re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M).group(1)


def test_dockerfile_is_slim_non_root_with_a_data_volume_and_a_health_check():
    text = dockerfile()
    base = base_image()
    assert re.match(r"python:3\.11-slim-bookworm(@sha256:[0-9a-f]{64})?$", base), base  # the lock's Python; a digest when pinned
    assert "--build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:" in text  # how to pin it, said where it is read
    final = final_stage()
    user = re.search(r"^USER (\S+)", final, re.M).group(1)
    assert user not in ("root", "0") and "useradd --system --uid 10001 --user-group" in final and user == "eport"
    assert 'VOLUME ["/data"]' in final and "EPORT_GUIDE_DB=/data/eport-guide.db" in final
    assert "-r /tmp/requirements.lock" in final and "--no-deps /tmp/wheels/*.whl" in final and "pip check" in final
    assert exec_form("HEALTHCHECK") == ["eport-guide", "health"] and exec_form("CMD") == ["eport-guide", "run"]


def test_the_locked_dependencies_are_a_layer_of_their_own_before_the_code():
    """A code change rebuilds the wheel's layer only: the dependencies' layer depends on the lock alone."""
    final = final_stage()
    steps = re.findall(r"^(COPY|RUN|ADD) ((?:.*\\\n)*.*)$", final, re.M)
    copies = [(i, args) for i, (kind, args) in enumerate(steps) if kind in ("COPY", "ADD")]
    assert [args for _, args in copies] == ["requirements.lock /tmp/requirements.lock", "--from=build /wheels /tmp/wheels"]
    lock_at, wheels_at = copies[0][0], copies[1][0]
    installs = [i for i, (kind, args) in enumerate(steps) if kind == "RUN" and "-r /tmp/requirements.lock" in args]
    assert len(installs) == 1 and lock_at < installs[0] < wheels_at  # installed before the code arrives
    assert "wheels" not in steps[installs[0]][1]
    build = dockerfile().split("\nFROM ", 2)[1]
    assert "requirements.lock" not in build  # the build stage builds the wheel only


def test_compose_keeps_the_data_in_a_volume_and_drops_privileges():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["eport-guide"]
    assert "eport-data:/data" in service["volumes"] and "eport-data" in compose["volumes"]
    assert service["read_only"] is True and service["cap_drop"] == ["ALL"] and service["restart"] == "unless-stopped"
    assert "no-new-privileges:true" in service["security_opt"] and service["env_file"] == "eport-guide.env"


def unit_text(name: str = "eport-guide.service") -> str:
    return (REPO / "deploy" / name).read_text(encoding="utf-8")


def directives_of(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def env_example(name: str) -> dict[str, str]:
    """VARIABLE → value of an environment example, commented-out assignments included."""
    text = (REPO / "deploy" / name).read_text(encoding="utf-8")
    return {m.group(1): m.group(2) for m in re.finditer(r"^#? ?([A-Z][A-Z0-9_]+)=(.*)$", text, re.M)}


@pytest.mark.parametrize("unit", ["eport-guide.service", "eport-guide-web.service"])
def test_units_restart_on_failure_except_for_configuration_and_have_a_file_descriptor_limit(unit):
    """`run` waits for Telegram at boot and exits 3 when the network fails it later: that restarts;
    only 1 (invalid knowledge) and 2 (configuration, a rejected token) need an operator."""
    directives = directives_of(unit_text(unit))
    assert directives["Restart"] == ["on-failure"]
    prevented = set(" ".join(directives.get("RestartPreventExitStatus", [])).split())
    assert prevented <= {"1", "2"} and "3" not in prevented
    (limit,) = directives["LimitNOFILE"]
    assert limit.isdigit() and int(limit) >= 4096


def test_the_web_unit_and_service_get_no_telegram_secret():
    web = directives_of(unit_text("eport-guide-web.service"))
    assert web["EnvironmentFile"] == ["/etc/eport-guide/eport-guide-web.env"]
    assert not [v for v in web.get("Environment", []) if v.startswith("TELEGRAM_")]
    web_env, bot_env = env_example("eport-guide-web.env.example"), env_example("eport-guide.env.example")
    assert not [name for name in web_env if name.startswith("TELEGRAM_") or "WEBHOOK" in name or name == "EPORT_GUIDE_ADMINS"]
    assert "EPORT_GUIDE_WEB_URL" in web_env and "TELEGRAM_BOT_TOKEN" in bot_env
    from bot.settings import Settings

    known = {field.validation_alias for field in Settings.model_fields.values()}
    assert set(web_env) <= known and set(bot_env) <= known  # no misspelt variable
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    assert compose["services"]["web"]["env_file"] == "eport-guide-web.env"
    assert compose["services"]["eport-guide"]["env_file"] == "eport-guide.env"


def test_the_environment_files_stay_out_of_the_image_and_the_repository():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    for ignore in (".dockerignore", ".gitignore"):
        ignored = (REPO / ignore).read_text(encoding="utf-8").splitlines()
        for service in compose["services"].values():
            assert service["env_file"] in ignored, (ignore, service["env_file"])


def compose_web_healthcheck() -> list[str]:
    check = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))["services"]["web"]["healthcheck"]
    assert check["test"][0] == "CMD"
    return check["test"][1:]


def test_the_compose_health_check_of_web_requests_a_page_on_its_port():
    web = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))["services"]["web"]
    port = web["environment"]["EPORT_GUIDE_WEB_PORT"]
    assert web["ports"] == [f"127.0.0.1:{port}:{port}"]
    argv = compose_web_healthcheck()
    assert argv[:2] == ["python", "-c"] and f"http://127.0.0.1:{port}/" in argv[2]  # the image's python, its port


def test_systemd_unit_is_hardened_and_has_no_trailing_comments():
    text = unit_text()
    directives = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        assert "#" not in value, f"systemd keeps trailing comments as part of the value: {line}"
        directives.setdefault(key, []).append(value)
    assert directives["Wants"] == ["network-online.target"] and directives["After"] == ["network-online.target"]
    assert directives["StateDirectory"] == ["eport-guide"] and directives["NoNewPrivileges"] == ["yes"]
    assert directives["ProtectSystem"] == ["strict"] and directives["User"] == ["eport"]
    assert directives["ExecStart"] == ["/opt/eport-guide/venv/bin/eport-guide run"]
    assert directives["Environment"] == ["EPORT_GUIDE_DB=/var/lib/eport-guide/eport-guide.db"]
    assert directives["EnvironmentFile"] == ["/etc/eport-guide/eport-guide.env"]
    ops = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "python3.11 -m venv /opt/eport-guide/venv" in ops  # how the venv the unit runs is made
    assert "-r requirements.lock" in ops


# -- the image's commands, from a fresh venv, as a non-root user ---------------------------
def _interpreter(as_user: list[str]) -> str | None:
    """A CPython of this minor version that ``as_user`` may run (this one may sit in a
    root-only home directory, e.g. under pyenv)."""
    wanted = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [getattr(sys, "_base_executable", sys.executable), f"/usr/local/bin/python{wanted}", f"/usr/bin/python{wanted}"]
    for candidate in candidates:
        if not os.path.exists(candidate):
            continue
        probe = subprocess.run(
            [*as_user, candidate, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            cwd="/",
        )
        if probe.returncode == 0 and probe.stdout.strip() == wanted:
            return candidate
    return None


def _link_distribution(name: str, site: Path) -> None:
    """Put one installed distribution (files and metadata) into ``site`` as symlinks."""
    dist = metadata.distribution(name)
    for file in dist.files or []:
        if file.parts[0] == "..":
            continue
        target = site / file
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.symlink_to(Path(dist.locate_file(file)).resolve())


@pytest.fixture(scope="module")
def image():
    """A fresh venv with the locked runtime distributions and the built wheel; a data dir."""
    as_user = []
    if os.geteuid() == 0 and shutil.which("setpriv"):
        as_user = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    python = _interpreter(as_user)
    if python is None and as_user:  # no interpreter the unprivileged user can run: run as root
        as_user, python = [], _interpreter([])
    assert python, "no Python interpreter to build the image's venv with"
    root = Path(tempfile.mkdtemp(prefix="eport-image-", dir="/tmp"))
    os.chmod(root, 0o755)
    try:
        wheels = root / "wheels"
        from .test_packaging import build_context

        context = build_context(root / "src")  # exactly what the Dockerfile's build stage copies
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(context)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        (wheel,) = wheels.glob("eport_guide-*.whl")
        venv = root / "venv"
        subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
        site = Path(
            subprocess.run(
                [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
        # `python -m venv` (with pip) and `pip install -r requirements.lock`, offline: exactly
        # the locked distributions, linked from the test venv (which runs the same versions:
        # test_the_test_venv_runs_the_locked_versions)
        for name in [*locked(), "pip"]:
            _link_distribution(name, site)
        data = root / "data"
        data.mkdir()
        if as_user:
            subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(venv), str(data), str(wheels)], check=True)
        # `pip install --no-deps /tmp/wheels/*.whl`, as the unprivileged user
        pip = [
            *as_user,
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "-q",
            str(wheel),
        ]
        result = subprocess.run(
            pip, capture_output=True, text=True, timeout=180, cwd=root, env={"PATH": "/usr/bin:/bin", "HOME": str(root)}
        )
        assert result.returncode == 0, result.stderr
        yield {"root": root, "venv": venv, "data": data, "as_user": as_user}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def image_env(image, **extra) -> dict[str, str]:
    """The image's environment: its PATH and EPORT_GUIDE_DB, nothing from this checkout."""
    return {
        "PATH": f"{image['venv'] / 'bin'}:/usr/bin:/bin",
        "HOME": str(image["data"]),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "EPORT_GUIDE_DB": str(image["data"] / "eport-guide.db"),
        **extra,
    }


def in_image(image, argv: list[str], **extra) -> subprocess.CompletedProcess:
    argv = [str(image["venv"] / "bin" / argv[0]), *argv[1:]]
    return subprocess.run(
        [*image["as_user"], *argv], capture_output=True, text=True, timeout=60, cwd=image["data"], env=image_env(image, **extra)
    )


def test_the_image_has_the_package_and_no_test_tools(image):
    where = in_image(image, ["python", "-c", "import bot, pytest"])
    assert where.returncode == 1 and "No module named 'pytest'" in where.stderr
    where = in_image(image, ["python", "-c", "import bot, knowledge, aiohttp"])
    assert "No module named 'aiohttp'" in where.stderr
    where = in_image(image, ["python", "-c", "import bot; print(bot.__file__)"])
    assert where.stdout.startswith(str(image["venv"])), where.stdout  # the installed copy, not this checkout
    version = in_image(image, ["eport-guide", "--version"])
    assert version.returncode == 0 and version.stdout.strip() == f"eport-guide {metadata.version('eport-guide')}"
    check = in_image(image, ["eport-guide", "check-knowledge"])
    assert check.returncode == 0 and "is valid" in check.stdout


async def test_the_image_cmd_and_healthcheck_against_the_fake(fake, image):
    telegram = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_API_FILE_URL": fake.base_file_url,
    }
    health = exec_form("HEALTHCHECK")
    before = await asyncio.to_thread(in_image, image, health, **telegram)
    assert before.returncode == 1 and "does not exist" in before.stdout  # not started yet: unhealthy

    cmd = exec_form("CMD")
    argv = [*image["as_user"], str(image["venv"] / "bin" / cmd[0]), *cmd[1:]]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=image["data"],
        env=image_env(image, **telegram),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_for(lambda: fake.calls("getUpdates"), timeout=30, what="the image's bot to poll")
        user = fake.user(id=4242)
        menu = await user.send("/start reissue_lost")
        await user.click(menu, "📋 加入清单")
        assert "进度 0/25" in user.last.plain
        during = await asyncio.to_thread(in_image, image, health, **telegram)
        assert during.returncode == 0, during.stdout + during.stderr
        backup = await asyncio.to_thread(in_image, image, ["eport-guide", "backup", str(image["data"] / "copy.db")])
        assert backup.returncode == 0 and "integrity check ok" in backup.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        fake._closing = True
        await fake._notify()
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        fake._closing = False
    assert proc.returncode == 0, err.decode()
    db = image["data"] / "eport-guide.db"
    if image["as_user"]:
        assert db.stat().st_uid == NOBODY  # written by the unprivileged user, in the data volume
    online = await asyncio.to_thread(in_image, image, [*health, "--online"], **telegram)
    assert online.returncode == 0 and "getMe answered" in online.stdout


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
@pytest.mark.parametrize("name", ["eport-guide.service", "eport-guide-web.service"])
def test_systemd_accepts_the_unit_with_the_venv_it_runs(image, tmp_path, name):
    unit = tmp_path / name
    unit.write_text(unit_text(name).replace("/opt/eport-guide/venv", str(image["venv"])), encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if name in line]
    assert result.returncode == 0 and not problems, problems


# -- the web pages (issue 17) ---------------------------------------------------------------
def test_compose_and_systemd_run_the_web_pages_beside_the_bot_on_the_same_data():
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    bot, web = compose["services"]["eport-guide"], compose["services"]["web"]
    assert web["command"] == ["eport-guide", "web"] and web["volumes"] == bot["volumes"]
    assert web["environment"]["EPORT_GUIDE_DB"] == bot["environment"]["EPORT_GUIDE_DB"]
    assert web["ports"] == ["127.0.0.1:8080:8080"] and web["environment"]["EPORT_GUIDE_WEB_LISTEN"] == "0.0.0.0"
    for key in ("read_only", "cap_drop", "security_opt", "restart"):
        assert web[key] == bot[key], key
    unit = directives_of(unit_text("eport-guide-web.service"))
    assert unit.pop("ExecStart") == ["/opt/eport-guide/venv/bin/eport-guide web"]
    assert unit.pop("EnvironmentFile") == ["/etc/eport-guide/eport-guide-web.env"]
    bot_unit = directives_of(unit_text())
    bot_unit.pop("ExecStart"), bot_unit.pop("EnvironmentFile")
    assert unit.pop("Description") != bot_unit.pop("Description")
    assert unit == bot_unit  # the same user, state directory, restarts, limits and hardening


def test_the_image_serves_the_web_pages(image):
    import signal
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [*image["as_user"], str(image["venv"] / "bin" / "eport-guide"), "web", "--port", str(port)]
    proc = subprocess.Popen(
        argv, cwd=image["data"], env=image_env(image), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        page = first_page(proc, f"http://127.0.0.1:{port}/t/unlock")
        assert page.status_code == 200 and "<style>" in page.text and "navigator.clipboard" in page.text
        check = [argv.replace("127.0.0.1:8080/", f"127.0.0.1:{port}/") for argv in compose_web_healthcheck()]
        healthy = in_image(image, check)
        assert healthy.returncode == 0, healthy.stderr  # compose's health check of `web`, from the image's python
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert in_image(image, check).returncode != 0  # nothing answers on the port: unhealthy


# -- docs/operations.md describes what these tests exercise ------------------------------------
def operations() -> str:
    return (REPO / "docs" / "operations.md").read_text(encoding="utf-8")


def test_the_container_instructions_create_every_file_compose_reads():
    container = operations().split("### Container", 1)[1].split("\n### ", 1)[0]
    created = dict(re.findall(r"^cp (deploy/\S+) (\S+)", container, re.M))
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    env_files = {service["env_file"] for service in compose["services"].values()}
    assert set(created.values()) == env_files
    assert all((REPO / source).is_file() for source in created)
    (chmod,) = re.findall(r"^chmod 600 (.+)$", container, re.M)
    assert set(chmod.split()) == env_files
    assert "docker compose up -d --build" in container
    assert f"`{base_image()}`" in container and "--build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest>" in container


def test_the_systemd_instructions_install_every_unit_and_the_file_it_reads():
    systemd = operations().split("### systemd", 1)[1].split("\n### ", 1)[0]
    installed = {
        Path(source if target.endswith("/") else target).name: source
        for source, target in re.findall(r"^install -m 06[04]{2} (deploy/\S+) (\S+)", systemd, re.M)
    }
    for unit in ("eport-guide.service", "eport-guide-web.service"):
        assert installed[unit] == f"deploy/{unit}"
        (env_file,) = directives_of(unit_text(unit))["EnvironmentFile"]
        assert (REPO / installed[Path(env_file).name]).is_file(), env_file
        assert f"systemctl enable --now {unit.removesuffix('.service')}" in systemd
    for directive in ("Restart=on-failure", "LimitNOFILE=8192", "RestartPreventExitStatus=1 2"):
        assert f"`{directive}`" in systemd and directive in unit_text()
