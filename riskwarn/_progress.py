"""A progress callback that library code can take without knowing about terminals.

Library functions accept ``progress: Progress | None``; they call ``progress(done, total,
what)`` as work advances. The CLI passes a rich progress bar; tests pass nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[int, int, str], None]


def report(progress: Progress | None, done: int, total: int, what: str) -> None:
    """Call ``progress`` when one was given."""
    if progress is not None:
        progress(done, total, what)


@contextmanager
def progress_bar(description: str, *, enabled: bool = True) -> Iterator[Progress]:
    """A rich progress bar on stderr, as a :data:`Progress` callback."""
    if not enabled:
        yield lambda done, total, what: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{description}: {what}")

        try:
            yield update
        except BaseException:
            bar.live.transient = True  # a failure prints its one line, not a half-done bar
            raise
