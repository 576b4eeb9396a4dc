"""Every command on the README and the docs/ pages runs as written.

The rule: in ``README.md`` and ``docs/*.md`` (not ``docs/bench/``, which ``cdkg bench-report``
writes), every fenced block whose info string is ``bash``, ``sh`` or ``console`` is run, unless
the info string goes on ``no-test (REASON)``: a block the tests cannot run (it installs something,
runs for minutes, needs Virtuoso or the network) says so, and why, where a reader sees it. A
command is a line, joined with the lines its trailing backslash continues (in a ``console`` block,
only what follows a ``$`` prompt); comment lines are not commands. In a block that is run, every
command must be one of:

- ``cdkg serve ARGS``: starts ``cdkg serve ARGS`` on a free port; the block's later commands call
  it. A block that starts none calls one ``cdkg serve`` with no arguments.
- ``cdkg ...`` (or ``.venv/bin/cdkg ...``): the installed console script, run from the repository
  root; it must exit 0, or N where its comment says ``exits N``.
- ``curl ...``: run from the repository root with ``http://127.0.0.1:8000`` standing for the
  block's server; the answer must be 2xx, or N where the comment says ``answers N``. It may call
  no other address: the tests stay offline.

Any other command fails the test: make it one of these, or mark its block ``no-test (REASON)``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from endpoint_fixtures import REPO, LiveServer

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELLS = ("bash", "sh", "console")
#: The address the pages give for the endpoint, ``bash scripts/serve``'s.
DOCUMENTED = "http://127.0.0.1:8000"
FENCE = re.compile(r"^\s*```(\w*)\s*(.*)$")
NO_TEST = re.compile(r"^no-test \((.+)\)$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, from 1
    info: str  # what follows the language on the opening fence
    lines: tuple[str, ...]
    console: bool

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    @property
    def runs(self) -> bool:
        return not self.info.startswith("no-test")

    def commands(self) -> list[tuple[str, str]]:
        """Each command as (its code, its comment)."""
        text = "\n".join(self.lines).replace("\\\n", " ")
        lines = text.splitlines()
        if self.console:
            lines = [line.split("$ ", 1)[1] for line in lines if line.lstrip().startswith("$ ")]
        found = [split_comment(line) for line in lines]
        return [(code, comment) for code, comment in found if code]


def shell_blocks() -> list[Block]:
    found = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        number = 0
        while number < len(lines):
            opening = FENCE.match(lines[number])
            if not opening:
                number += 1
                continue
            end = number + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            language, info = opening.groups()
            if language in SHELLS:
                body = tuple(lines[number + 1 : end])
                found.append(Block(page, number + 1, info, body, language == "console"))
            number = end + 1
    return found


def split_comment(line: str) -> tuple[str, str]:
    """The line's code and its comment: what follows a ``#`` that starts a word, out of quotes."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].strip(), line[index + 1 :].strip()
    return line.strip(), ""


def kind(code: str) -> str | None:
    words = code.split()
    if words[0] in ("cdkg", ".venv/bin/cdkg"):
        return "serve" if words[1:2] == ["serve"] else "cdkg"
    if words[0] == "curl":
        return "curl"
    return None


def expected(comment: str, word: str) -> int | None:
    said = re.search(rf"\b{word} (\d+)\b", comment)
    return int(said[1]) if said else None


BLOCKS = shell_blocks()
RUN = [block for block in BLOCKS if block.runs]


def test_the_pages_have_blocks_to_run() -> None:
    assert {block.page.name for block in RUN} >= {"endpoint.md", "command-line.md", "README.md"}
    assert sum(len(block.commands()) for block in RUN) >= 10


def test_every_command_is_run_or_its_block_says_why_not() -> None:
    wrong = []
    for block in BLOCKS:
        if not block.runs:
            if not NO_TEST.match(block.info):
                wrong.append(f"{block.where}: write the reason: ```bash no-test (REASON)")
            continue
        if block.info:
            wrong.append(f"{block.where}: {block.info!r} is no marker; mean no-test (REASON)?")
        for code, _ in block.commands():
            if kind(code) is None:
                wrong.append(f"{block.where}: {code!r} is neither cdkg nor curl: mark the block")
            elif kind(code) == "serve" and {"--port", "--host"} & set(shlex.split(code)):
                wrong.append(f"{block.where}: {code!r}: the test picks the host and port")
            elif kind(code) == "curl":
                urls = [w for w in shlex.split(code) if re.match(r"https?://", w)]
                if not urls or any(not url.startswith(DOCUMENTED + "/") for url in urls):
                    wrong.append(f"{block.where}: {code!r} must call {DOCUMENTED}/ alone")
    assert wrong == [], "\n".join(wrong)


@pytest.fixture(scope="module")
def server_for(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[tuple[str, ...]], LiveServer]]:
    """``cdkg serve ARGS`` on a free port, one per distinct ARGS, stopped with the module."""
    started: dict[tuple[str, ...], LiveServer] = {}

    def server(args: tuple[str, ...]) -> LiveServer:
        if args not in started:
            log = tmp_path_factory.mktemp("docs-server") / "serve.log"
            # a path the page gives from the repository root, wherever pytest runs
            resolved = [str(REPO / arg) if (REPO / arg).is_file() else arg for arg in args]
            started[args] = LiveServer(resolved, log)
            started[args].start()
        return started[args]

    yield server
    for running in started.values():
        running.stop()


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDKG_")}
    return subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow
@pytest.mark.parametrize("block", RUN, ids=[block.where for block in RUN])
def test_the_block_runs_as_written(
    block: Block, server_for: Callable[[tuple[str, ...]], LiveServer]
) -> None:
    cdkg = str(Path(sys.executable).parent / "cdkg")
    server_args: tuple[str, ...] = ()
    for code, comment in block.commands():
        what = kind(code)
        if what == "serve":
            server_args = tuple(shlex.split(code)[2:])
            server_for(server_args)
        elif what == "cdkg":
            result = run([cdkg, *shlex.split(code)[1:]])
            status = expected(comment, "exits") or 0
            assert result.returncode == status, f"{block.where}: {code}\n{result.stderr[-2000:]}"
        elif what == "curl":
            if not shutil.which("curl"):
                pytest.fail("curl is missing: apt-get install curl")
            url = server_for(server_args).url
            argv = shlex.split(code.replace(DOCUMENTED, url))
            result = run([*argv, "--silent", "--show-error", "--write-out", "\n%{http_code}"])
            assert result.returncode == 0, f"{block.where}: {code}\n{result.stderr}"
            answered = int(result.stdout.rsplit("\n", 1)[-1])
            status = expected(comment, "answers")
            right = answered == status if status is not None else 200 <= answered < 300
            assert right, f"{block.where}: {code} answered {answered}\n{result.stdout[-2000:]}"
        else:
            pytest.fail(f"{block.where}: {code!r} is neither cdkg nor curl (see the rule above)")
