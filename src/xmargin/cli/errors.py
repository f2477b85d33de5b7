"""The CLI's one error boundary: exit codes, ``error:`` lines, JSON errors, no tracebacks.

Exit status (contract section 4): 0 done; 1 refused by a rule; 2 bad input (a malformed
market file, an unknown name, a bad option, a usage error) and anything unexpected;
130 on interrupt. Every failure prints exactly one ``error: ...`` line on stderr and,
with ``--json``, ``{"error": {"code", "message", "problems"}}`` on stdout.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import warnings

import typer

from xmargin.errors import XmarginError

__all__ = ["run_guarded"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
#: 128 + SIGPIPE, as a shell reports a reader that went away.
EXIT_BROKEN_PIPE = 141


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fail(exit_code: int, error: dict[str, object], as_json: bool) -> int:
    """Print the error line (and the JSON error object) and return ``exit_code``."""
    message = _one_line(str(error["message"]))
    if as_json:
        body = {**error, "message": message}
        try:
            sys.stdout.write(json.dumps({"error": body}, indent=2, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    return exit_code


def _error(code: str, message: str) -> dict[str, object]:
    return {"code": code, "message": message, "problems": []}


def _usage_message(exc: BaseException) -> str | None:
    """The message of a Click/Typer usage error, or ``None`` if ``exc`` is not one.

    Typer's Click errors are recognised by shape (``exit_code`` and ``format_message``),
    which holds for Typer's own copy of Click and for Click itself.
    """
    format_message = getattr(exc, "format_message", None)
    if callable(format_message) and isinstance(getattr(exc, "exit_code", None), int):
        return str(format_message())
    return None


def _is_broken_pipe(exc: BaseException | None) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.EPIPE


def _silence_stdout() -> int:
    """After the reader of stdout went away: drop what is left, quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a real file (captured in tests): nothing will flush to a pipe
    return EXIT_BROKEN_PIPE


def _wants_json(args: list[str]) -> bool:
    return "--json" in (args[: args.index("--")] if "--" in args else args)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    """A warning for people: one ``warning: ...`` line on stderr, no source location."""
    sys.stderr.write(f"warning: {_one_line(str(message))}\n")


def run_guarded(app: typer.Typer, argv: list[str] | None) -> int:
    """Run ``app`` on ``argv``; map every failure to the contract's exit status (0, 1 or 2).

    Nothing escapes as a traceback: library errors keep their ``code`` and exit status,
    usage errors exit 2, anything unexpected exits 2 as an internal error. Warnings print
    as one ``warning: ...`` line each, each distinct one once.
    """
    shown: set[str] = set()

    def show_once(message: Warning | str, *args: object, **kwargs: object) -> None:
        # Each distinct warning once per command, however many times (and wherever) the
        # library raised it: the same in a fresh process and in a long-lived one.
        text = str(message)
        if text not in shown:
            shown.add(text)
            _show_warning(message, UserWarning, "", 0)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show_once
        return _run(app, argv)


def _run(app: typer.Typer, argv: list[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(args)
    try:
        command = typer.main.get_command(app)
        if not args:
            # No command at all: the overview, as --help gives it.
            args = ["--help"]
        result = command.main(args=args, prog_name="xmargin", standalone_mode=False)
        sys.stdout.flush()
    except XmarginError as exc:
        return _fail(exc.exit_code, exc.to_dict(), as_json)
    except KeyboardInterrupt:
        return _fail(EXIT_INTERRUPTED, _error("interrupted", "interrupted"), as_json)
    except BrokenPipeError:
        return _silence_stdout()
    except SystemExit as exc:
        # Click exits by itself only when stdout broke while it wrote; pass others through.
        if _is_broken_pipe(exc.__context__):
            return _silence_stdout()
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    except typer.Abort as exc:
        # Older Click turns an interrupt into Abort; closed input (EOF) is an Abort too.
        if isinstance(exc.__cause__, KeyboardInterrupt):
            return _fail(EXIT_INTERRUPTED, _error("interrupted", "interrupted"), as_json)
        return _fail(EXIT_BAD_INPUT, _error("aborted", "aborted"), as_json)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        message = f"{where}{exc.strerror or exc}"
        return _fail(EXIT_BAD_INPUT, _error("io_error", message), as_json)
    except Exception as exc:
        usage = _usage_message(exc)
        if usage is not None:
            return _fail(EXIT_BAD_INPUT, _error("usage_error", usage), as_json)
        message = f"internal error: {type(exc).__name__}: {exc}"
        return _fail(EXIT_BAD_INPUT, _error("internal_error", message), as_json)
    # ``main`` returns a command's result, or the status of an explicit exit (--help: 0);
    # Click turns an interrupt inside a command into an exit with 130.
    if result == EXIT_INTERRUPTED:
        return _fail(EXIT_INTERRUPTED, _error("interrupted", "interrupted"), as_json)
    return result if isinstance(result, int) and not isinstance(result, bool) else EXIT_OK
