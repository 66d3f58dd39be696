"""The README works as written: its quick start names real make targets, its tour runs
verbatim against a server started the way it says, and its configuration table lists exactly
the settings there are.

The tour is run as a newcomer would: the server as the README starts it (``make run``, on a
free port and a database and outbox in a temporary folder), then every ``sh`` block of the tour
in order in one shell, so variables carry from one step to the next. The block after a command
block is what that command prints; ``…`` stands for text that differs from run to run (ids,
tokens). A block marked ``<!-- readme-test: ... outbox ... -->`` is the text part of the email
in the outbox.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from engine.platform.config import Settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
STAMP = ".venv/.installed-stamp"
SERVER_START_S = 60.0
COMMAND_S = 30.0
SETTLE_S = 10.0  # how long a read-only step may take to show what the one before it caused
README_PORT = 8000
MUTATING = re.compile(r"(^|\s)(-d|--data-binary|-X)\s|>")
OUTBOX_MARK = "readme-test:"


@dataclass(frozen=True)
class Block:
    info: str
    body: str
    mark: str  # the readme-test comment just before the block, if any


def section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def blocks(text: str) -> list[Block]:
    """Fenced blocks in order, each with the ``readme-test`` comment that precedes it."""
    found: list[Block] = []
    pattern = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
    previous_end = 0
    for match in pattern.finditer(text):
        between = text[previous_end : match.start()].splitlines()
        mark = next((line for line in between if OUTBOX_MARK in line), "")
        found.append(Block(match.group(1), match.group(2), mark))
        previous_end = match.end()
    return found


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` is ``expected`` with each ``…`` standing for any text."""
    tidy = [_tidy(expected), _tidy(actual)]
    pattern = ".*?".join(re.escape(piece) for piece in tidy[0].split("…"))
    return re.fullmatch(pattern, tidy[1], re.S) is not None


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Shell:
    """One bash session, as in a terminal: blocks run in it one after another."""

    DONE = "__readme_block_done__"

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def run(self, script: str, timeout: float = COMMAND_S) -> tuple[str, int]:
        """What ``script`` prints and its last command's exit status."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{script}\nprintf '\\n{self.DONE} %s\\n' $?\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        out: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no end after {timeout} s of:\n{script}\n{''.join(out)}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line.startswith(self.DONE):
                return "".join(out).removesuffix("\n"), int(line.split()[1])
            out.append(line)

    def close(self) -> None:
        _stop(self.process)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@dataclass
class Tour:
    folder: Path
    port: int
    env: dict[str, str]


def start_command(tour_blocks: list[Block]) -> tuple[dict[str, str], list[str]]:
    """The README's first command: ``VAR=value ... make run``, as environment and argv."""
    words = tour_blocks[0].body.split()
    assert words[-2:] == ["make", "run"], tour_blocks[0].body
    env = dict(word.split("=", 1) for word in words[:-2])
    return env, words[-2:]


def wait_until_up(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not answer within {SERVER_START_S} s")


@pytest.fixture
def tour(tmp_path: Path) -> Iterator[Tour]:
    """The server, started as the README says, with its files in ``tmp_path``."""
    for tool in ("curl", "jq", "make", "bash"):
        if shutil.which(tool) is None:
            pytest.skip(f"the README's tour needs {tool}, which is not installed")
    if not (ROOT / ".venv" / "bin" / "nudge").exists():
        pytest.skip("`make run` serves from .venv, which `make install` has not set up")
    env_of_readme, argv = start_command(blocks(section(README.read_text(), "A 60-second tour")))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NUDGE_")},
        **env_of_readme,
        "NUDGE_PORT": str(port),
        "NUDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'nudge.db'}",
        "NUDGE_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    # `-o` keeps make from reinstalling the environment this test already runs in.
    with open(tmp_path / "server.log", "w") as log:
        server = subprocess.Popen(
            [*argv[:1], "-C", str(ROOT), "-o", STAMP, *argv[1:]],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        try:
            wait_until_up(f"http://127.0.0.1:{port}", server)
        except AssertionError as exc:
            log_tail = (tmp_path / "server.log").read_text()[-3000:]
            raise AssertionError(f"{exc}; the server said:\n{log_tail}") from None
        yield Tour(tmp_path, port, env)
    finally:
        _stop(server)


def outbox_text(folder: Path) -> str:
    deadline = time.monotonic() + SETTLE_S
    while not (files := sorted(folder.glob("*.eml"))) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(files) == 1, files
    mail = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert isinstance(mail, EmailMessage)
    plain = mail.get_body(preferencelist=("plain",))
    assert plain is not None
    return str(plain.get_content())


def on_this_port(expected: str, port: int) -> str:
    """The README shows the default port; links must follow the port actually served."""
    for host in ("127.0.0.1", "localhost"):
        expected = expected.replace(f"{host}:{README_PORT}", f"{host}:{port}")
    return expected


def test_the_tour_runs_verbatim_and_answers_what_it_shows(tour: Tour) -> None:
    steps = blocks(section(README.read_text(), "A 60-second tour"))[1:]
    assert steps and steps[0].info == "sh", "the tour goes on with shell commands"
    shell = Shell(tour.folder, tour.env)
    try:
        last_command: Block | None = None
        shown = 0
        for block in steps:
            if block.info == "sh":
                output, status = shell.run(block.body)
                assert status == 0, (block.body, output)
                last_command, last_output = block, output
                continue
            if "outbox" in block.mark:
                actual = outbox_text(tour.folder / "outbox")
            else:
                assert last_command is not None, f"output without a command:\n{block.body}"
                actual = settled(shell, last_command, last_output, block.body, tour.port)
            expected = on_this_port(block.body, tour.port)
            assert matches(expected, actual), f"README shows:\n{expected}\n\ngot:\n{actual}"
            shown += 1
            last_command = None
        assert shown >= 6, "the tour shows what its commands answer"
    finally:
        shell.close()


def settled(shell: Shell, command: Block, output: str, shown: str, port: int) -> str:
    """The command's output; a read-only command is repeated for a few seconds while it does
    not show yet what the step before it caused (a message is sent just after a reading)."""
    expected = on_this_port(shown, port)
    deadline = time.monotonic() + SETTLE_S
    while (
        not matches(expected, output)
        and not MUTATING.search(command.body)
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
        output, _ = shell.run(command.body)
    return output


def test_the_quick_start_commands_are_make_targets() -> None:
    quick_start = blocks(README.read_text().split("\n## ", 1)[0])[0].body
    targets = re.findall(r"^make (\w+)", quick_start, re.M)
    assert targets == ["run", "test"]
    makefile = (ROOT / "Makefile").read_text()
    for target in targets:
        assert re.search(rf"^{target}:", makefile, re.M), target
    run = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert run is not None
    assert run.group(1).split() == ["$(BIN)/nudge", "db", "upgrade", "$(BIN)/nudge", "serve"]


def documented_variables() -> list[str]:
    table = section(README.read_text(), "Configuration")
    rows = [line for line in table.splitlines() if line.startswith("| `NUDGE_")]
    return [name for row in rows for name in re.findall(r"`(NUDGE_[A-Z0-9_]+)`", row.split("|")[1])]


def variables_read_directly() -> set[str]:
    """``NUDGE_*`` variables the code reads itself rather than through ``Settings``."""
    found: set[str] = set()
    for path in (ROOT / "engine").rglob("*.py"):
        found |= set(re.findall(r"environ\.get\(\"(NUDGE_[A-Z0-9_]+)\"", path.read_text()))
    return found


def test_the_configuration_table_lists_every_setting_and_only_those() -> None:
    documented = documented_variables()
    settings = {f"NUDGE_{name.upper()}" for name in Settings.model_fields}
    assert len(documented) == len(set(documented)), "a variable is listed twice"
    assert settings - set(documented) == set(), "settings missing from the README's table"
    assert set(documented) - settings - variables_read_directly() == set(), "not settings"


def test_the_configuration_table_shows_the_numeric_defaults() -> None:
    table = section(README.read_text(), "Configuration")
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, bool) or not isinstance(default, int | float):
            continue
        row = next(line for line in table.splitlines() if f"`NUDGE_{name.upper()}`" in line)
        shown = {f"{default:g}", f"{default:,}", f"{default // 1024 // 1024} MiB"}
        assert any(value in row.split("|")[2] for value in shown), (name, default, row)


def test_every_link_to_a_file_of_the_repository_leads_to_one() -> None:
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", README.read_text())
    assert {"docs/operations.md", "docs/consent.md"} <= set(targets)
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert missing == []
