"""Long jobs in a separate process, so the back office keeps answering keys while they run.

A verify walks every audit record or posting in Python and an Excel export builds every row in Python: in a
worker *thread* they hold the interpreter lock most of the time and each key waits for it. Here the job runs
in a child process with its own Context (same database, same user, same clock, same language); the worker
thread only waits on a pipe for progress and the answer, so the UI thread runs freely. Cancelling the worker
ends the process. A database another process cannot open (in-memory SQLite) runs the job in the thread.
This module imports no Textual at the top: the child imports it, and should start fast.

The keys stay quick while a job runs: the child runs at a lower priority than the app (its start-up imports
and its work yield the CPU to the key that was just typed), progress reaches the app at most every
PROGRESS_EVERY_S, and a verify sends back a summary (the first problems and their number), not every problem
— a million of them unpickled in the app would hold the interpreter lock for seconds.
"""

from __future__ import annotations

import importlib
import os
import pickle
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.clock import Clock
from core.context import Actor, Context
from core.errors import AnjuError
from core.i18n import _, current_language

if TYPE_CHECKING:
    from console.screens.base import WorkScreen

ROOT = (
    Path(__file__).resolve().parent.parent.parent
)  # the project: the child imports console and core from it
POLL_S = 0.05  # how often the waiting thread looks at the pipe and at cancellation
JOIN_S = 5.0
CHILD_NICENESS = 5  # the child's priority below the app's (os.nice): the app's keys come first
PROGRESS_EVERY_S = 0.1  # progress is passed on to the app at most this often (the last one always)
PROBLEMS_KEPT = 20  # a verify summary lists this many problems (and counts them all)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ContextSpec:
    """What a child process needs to build the same Context (all picklable)."""

    db_url: str
    home_root: str | None
    actor: Actor
    clock: Clock
    language: str


class JobRefused(Exception):
    """The job's service refused (an AnjuError in the child); `message` is its sentence, translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JobFailed(Exception):
    """The job broke (not a refusal): `kind` is the exception's type name in the child."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class JobCancelled(Exception):
    """The worker was cancelled and the process ended."""


def context_spec(ctx: Context) -> ContextSpec | None:
    """The spec of `ctx` for a child process, or None if a child could not open its database."""
    url = ctx.db.url
    if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:"):
        return None
    home = str(ctx.home.root) if ctx.home is not None else None
    return ContextSpec(url, home, ctx.actor, ctx.clock, current_language())


def target_of(fn: Callable[..., Any]) -> str:
    """ "module:name" of a module-level function (what the child imports)."""
    if "<" in fn.__qualname__ or "." in fn.__qualname__:
        raise ValueError(f"{fn!r} is not a module-level function")
    return f"{fn.__module__}:{fn.__qualname__}"


def _child_main() -> None:
    """The child process: read the job from stdin, run it, write pickled messages to the saved stdout
    (anything else printing goes to /dev/null so it cannot corrupt the stream)."""
    from core.db.engine import Database
    from core.i18n import set_language
    from core.site import SiteHome

    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)

    def send(*message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(len(data).to_bytes(4, "big") + data)
        out.flush()

    spec, target, args, kwargs, with_progress = pickle.load(sys.stdin.buffer)
    set_language(spec.language)
    db = Database(spec.db_url)
    home = SiteHome(Path(spec.home_root)) if spec.home_root else None
    ctx = Context(db=db, actor=spec.actor, clock=spec.clock, home=home)
    try:
        module, name = target.split(":")
        fn = getattr(importlib.import_module(module), name)
        if with_progress:
            kwargs = {**kwargs, "progress": lambda done, total: send("progress", done, total)}
        result = fn(ctx, *args, **kwargs)
    except AnjuError as err:
        send("refused", str(err))
    except Exception as err:  # the parent shows a sentence; the detail is the type name
        send("failed", type(err).__name__)
    else:
        send("done", result)
    finally:
        out.close()
        db.dispose()


# The priority is lowered first, so that even the child's imports give way to the app.
CHILD_CODE = (
    "import os\n"
    "try:\n"
    f"    os.nice({CHILD_NICENESS})\n"
    "except OSError:\n"
    "    pass\n"
    "from console.widgets.jobs import _child_main\n"
    "_child_main()\n"
)


def _messages(proc: subprocess.Popen, cancelled: Callable[[], bool]) -> Iterator[tuple]:
    """The child's messages (4-byte length, then a pickle) as they arrive; ends at the child's end of output."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buffer = b""
    while True:
        if cancelled():
            proc.kill()
            raise JobCancelled()
        ready, _w, _x = select.select([fd], [], [], POLL_S)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        buffer += chunk
        while len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[:4], "big"):
            size = int.from_bytes(buffer[:4], "big")
            yield pickle.loads(buffer[4 : 4 + size])
            buffer = buffer[4 + size :]


def run_in_process(
    spec: ContextSpec,
    target: str,
    args: tuple = (),
    kwargs: dict | None = None,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Any:
    """Run `target(ctx, *args, **kwargs)` in a child Python process and return its result (blocking this
    thread, which only waits on the pipe). Raises JobRefused, JobFailed or JobCancelled.

    A plain subprocess with pickles over its pipes, not multiprocessing: multiprocessing's helper process
    needs a real stderr, which a running Textual app has replaced."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_CODE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    passed_on = 0.0
    try:
        proc.stdin.write(pickle.dumps((spec, target, args, kwargs or {}, progress is not None)))
        proc.stdin.close()
        for kind, *rest in _messages(proc, cancelled):
            if kind == "progress":
                done, total = rest
                now = time.monotonic()
                if progress is not None and (now - passed_on >= PROGRESS_EVERY_S or done >= total):
                    passed_on = now
                    progress(done, total)
            elif kind == "done":
                return rest[0]
            elif kind == "refused":
                raise JobRefused(rest[0])
            else:
                raise JobFailed(str(rest[0]))
        raise JobFailed(f"ProcessExit{proc.wait(JOIN_S)}")
    finally:
        proc.stdout.close()
        try:
            proc.wait(JOIN_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(JOIN_S)


@dataclass
class VerifySummary:
    """What the app shows of a verify: the records checked, the number of problems and the first of them
    (same reading as core.audit.log.VerifyResult: `ok`, `checked`, `problems`)."""

    checked: int
    problem_count: int
    problems: list[dict]

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


def verify_summary(ctx: Context, check: str, keep: int = PROBLEMS_KEPT) -> VerifySummary:
    """Run the verify service `check` ("module:name", e.g. "core.overview:check_audit") and return its
    summary: all problems counted, the first `keep` listed (for call_in_process: a small answer to send)."""
    module, name = check.split(":")
    result = getattr(importlib.import_module(module), name)(ctx)
    return VerifySummary(result.checked, len(result.problems), list(result.problems[:keep]))


def call_in_process(
    screen: WorkScreen,
    service: Callable[..., Any],
    *args: Any,
    done: Callable[[Any], None],
    failed: Callable[[str], None] | None = None,
    group: str = "job",
) -> None:
    """Like `WorkScreen.call`, but the service runs in its own process (a long verify, say): `done(result)`
    or the refusal's sentence through `failed` (default: the screen's message line)."""
    spec = context_spec(screen.context())
    if spec is None:
        screen.call(service, *args, done=done, failed=failed, group=group)
        return
    from textual.worker import get_current_worker

    target = target_of(service)
    app = screen.app
    say = failed or screen.say_error

    def work() -> None:
        worker = get_current_worker()
        try:
            result = run_in_process(spec, target, args, cancelled=lambda: worker.is_cancelled)
        except JobCancelled:
            return
        except JobRefused as err:
            app.call_from_thread(say, err.message)
        except (JobFailed, OSError) as err:
            screen.log.error(repr(err))
            app.call_from_thread(say, _("Something went wrong: {error}").format(error=str(err)))
        else:
            app.call_from_thread(done, result)

    screen.run_worker(work, thread=True, group=group)
