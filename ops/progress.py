"""Progress of long ops work: a tqdm bar on a terminal, plain lines where nobody watches a bar
(logs, pipes, cron), so what a log keeps stays readable."""
import sys
from contextlib import contextmanager

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm


@contextmanager
def progress(total, what, stream=None):
    """Yields `step(n=1)`. On a terminal a bar; otherwise a line `what: done/total` about every
    tenth of the work and at the end. Written to stderr: stdout keeps the command's answer."""
    stream = stream or sys.stderr
    if stream.isatty():
        with logging_redirect_tqdm(), tqdm(total=total, desc=what, file=stream, dynamic_ncols=True) as bar:
            yield bar.update
        return
    every, state = max(1, total // 10), {"done": 0, "shown": 0}

    def step(n=1):
        state["done"] += n
        if state["done"] - state["shown"] >= every or state["done"] == total:
            state["shown"] = state["done"]
            print(f"{what}: {state['done']}/{total}", file=stream, flush=True)

    yield step
