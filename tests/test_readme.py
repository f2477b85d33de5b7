"""The README runs as written (issue 9, item 1): every command it shows, every library
example, on what a fresh clone holds (no ``../shared``).

How the README is read (the rule, for whoever adds an example):

- A ```` ```console ```` block holds commands: each line starting ``$ `` is one (a line
  ending in ``\\`` continues on the next; a ``# comment`` after it is ignored). The lines
  after a command, up to the next ``$ ``, are what it prints: stdout, then stderr. They
  must match line for line (trailing spaces ignored). A line holding only ``…`` stands for
  any number of lines (elided output). A command shown with no output is run and must
  exit 0; what it prints is not compared.
- Commands run in README order, in one temporary folder that holds ``src``, ``tests`` and
  ``docs`` of this checkout (links), so relative paths resolve as in a clone and a file a
  command writes (``--out book``) is there for the next. ``xmargin`` runs in-process (the
  script's own ``main``); any other command through ``sh``. Nothing is normalised but
  trailing spaces: the examples print no timings or temporary paths.
- A ```` ```pycon ```` block is a doctest (``>>>`` prompts, ``...`` continuation; output
  compared with ``ELLIPSIS``, so ``…``-free ``...`` elides), run in the same folder.
- ```` ```sh ```` blocks are synopses (placeholders such as ``MARKET``, ``A|B``): not run.
  ``make demo`` and ``make test`` of the first block are run elsewhere: ``make demo`` is
  ``xmargin demo`` (:func:`test_make_demo_runs`), ``make test`` is the CI job itself.
- A marker comment on the line before a block changes how it runs:
  ``<!-- readme-test: slow -->`` runs it only with the ``slow`` marker (CI);
  ``<!-- readme-test: skip REASON -->`` does not run it, and the reason must be given.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli.conftest import run_in_process

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ELLIPSIS = "…"

_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"<!--\s*readme-test:\s*(slow|skip)\b(.*?)-->")


@dataclass
class Block:
    """One fenced block of the README: its language, first line, text and marker."""

    lang: str
    line: int
    text: str
    marker: str = ""
    reason: str = ""


@dataclass
class Command:
    """One ``$`` command of a console block and the output shown under it."""

    text: str
    line: int
    shown: list[str] = field(default_factory=list)


def blocks(text: str) -> list[Block]:
    """Every fenced block, with the marker comment of the line before it, if any."""
    lines = text.splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        before = lines[start - 1] if start else ""
        mk = _MARKER.search(before)
        out.append(
            Block(
                lang,
                start + 1,
                "\n".join(lines[start + 1 : j]),
                mk.group(1) if mk else "",
                mk.group(2).strip() if mk else "",
            )
        )
        i = j + 1
    return out


def commands(block: Block) -> list[Command]:
    """The ``$`` commands of a console block and the lines shown under each."""
    out: list[Command] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        assert line.startswith("$ "), (
            f"README line {block.line + 1 + i}: output before any `$ ` command: {line!r}"
        )
        cmd, at = line[2:], block.line + 1 + i
        while cmd.rstrip().endswith("\\"):
            i += 1
            cmd = cmd.rstrip()[:-1] + " " + lines[i].strip()
        i += 1
        shown: list[str] = []
        while i < len(lines) and not lines[i].startswith("$ "):
            shown.append(lines[i].rstrip())
            i += 1
        while shown and not shown[-1]:
            shown.pop()
        out.append(Command(cmd, at, shown))
    return out


def matches(shown: list[str], got: list[str]) -> bool:
    """Whether ``got`` is ``shown`` line for line, a ``…`` line eliding any lines."""
    if not shown:
        return not got
    head, rest = shown[0], shown[1:]
    if head == ELLIPSIS:
        return any(matches(rest, got[k:]) for k in range(len(got) + 1))
    return bool(got) and got[0] == head and matches(rest, got[1:])


def _selected(slow: bool) -> list[Block]:
    found = blocks(README.read_text(encoding="utf-8"))
    for b in found:
        if b.marker == "skip":
            assert b.reason, f"README line {b.line}: a skipped block must say why"
    want = "slow" if slow else ""
    return [b for b in found if b.marker == want and b.lang in ("console", "pycon")]


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder that looks like a fresh clone (``src``, ``tests``, ``docs``), as cwd."""
    for name in ("src", "tests", "docs"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    for var in ("COLUMNS", "LINES", "XMARGIN_ENGINE", "XMARGIN_BACKEND"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], cmd: Command) -> tuple[int, list[str]]:
    args = shlex.split(cmd.text, comments=True)
    if args and args[0] == "xmargin":
        run = run_in_process(capsys, *args[1:])
        code, out, err = run.code, run.out, run.err
    else:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        done = subprocess.run(
            cmd.text, shell=True, capture_output=True, text=True, env=env, check=False
        )
        code, out, err = done.returncode, done.stdout, done.stderr
    got = [line.rstrip() for line in (out + err).splitlines()]
    while got and not got[-1]:
        got.pop()
    return code, got


def _run_blocks(capsys: pytest.CaptureFixture[str], selected: list[Block]) -> None:
    failures: list[str] = []
    for block in selected:
        if block.lang == "pycon":
            failures.extend(_doctest(block))
            continue
        for cmd in commands(block):
            code, got = _run(capsys, cmd)
            if code != 0:
                failures.append(f"README line {cmd.line}: `{cmd.text}` exited {code}: {got}")
            elif cmd.shown and not matches(cmd.shown, got):
                shown, printed = "\n".join(cmd.shown), "\n".join(got)
                failures.append(
                    f"README line {cmd.line}: `{cmd.text}` printed\n{printed}\n"
                    f"-- but the README shows --\n{shown}"
                )
    assert not failures, "\n\n".join(failures)


def _doctest(block: Block) -> list[str]:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.text, {}, f"README.md:{block.line}", "README.md", block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    runner.run(test, out=report.append)
    return ["".join(report)] if runner.failures else []


def test_every_command_and_example_of_the_readme_runs_as_shown(
    capsys: pytest.CaptureFixture[str], clone: Path
) -> None:
    selected = _selected(slow=False)
    assert selected, "the README shows no console or pycon block"
    _run_blocks(capsys, selected)


@pytest.mark.slow
def test_the_readme_blocks_marked_slow_run_as_shown(
    capsys: pytest.CaptureFixture[str], clone: Path
) -> None:
    _run_blocks(capsys, _selected(slow=True))


def test_make_demo_runs(capsys: pytest.CaptureFixture[str], clone: Path) -> None:
    """``make demo`` is ``xmargin demo`` after the install (Makefile)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo: install\n\t\$\(BIN\)/xmargin demo$", makefile, flags=re.M)
    code, got = _run(capsys, Command("xmargin demo", 0))
    assert code == 0, got


def test_the_rule_reads_the_readme_as_documented() -> None:
    """The reader itself: continuation, comments, elisions, markers."""
    text = (
        "<!-- readme-test: slow -->\n```console\n$ xmargin a \\\n    --b  # note\nx\n…\ny\n```\n"
        "```sh\nxmargin MARKET\n```\n"
    )
    found = blocks(text)
    assert [(b.lang, b.marker) for b in found] == [("console", "slow"), ("sh", "")]
    (cmd,) = commands(found[0])
    assert shlex.split(cmd.text, comments=True) == ["xmargin", "a", "--b"]
    assert cmd.shown == ["x", ELLIPSIS, "y"]
    assert matches(cmd.shown, ["x", "1", "2", "y"]) and matches(cmd.shown, ["x", "y"])
    assert not matches(cmd.shown, ["x", "1"]) and not matches(["x"], ["x", "extra"])
