"""A loop that runs beside a service's workers for as long as the service runs, keeping its own
connections: the outbox relay, notify's dispatcher and the batch consumer are each one."""
import logging
import time

log = logging.getLogger(__name__)

FIRST_PAUSE = 0.5  # seconds before the first new try after a lost connection
LONGEST_PAUSE = 10.0  # the pause doubles up to this while the broker or the database stays away


class ReconnectingLoop:
    """Mixed into a nameko extension. The extension's `start` calls `start_loop(identifier)`;
    `session()` connects, calls `connected()` once it is up, and works while `self.running`.
    A session that fails (the broker or the database went away) is started again after a pause,
    0.5 s doubling up to 10 s and back to 0.5 s once connected: the work it would do waits where it
    is (unsent rows, unacknowledged messages), so nothing is lost meanwhile."""

    running = False
    _thread = None

    def loop_name(self):
        return type(self).__name__

    def start_loop(self, identifier):
        self.running = True
        self._pause = FIRST_PAUSE
        self._thread = self.container.spawn_managed_thread(self._loop, identifier=identifier)

    def stop(self):
        self.running = False
        if self._thread is not None:
            self._thread.kill()

    kill = stop

    def connected(self):
        self._pause = FIRST_PAUSE

    def session(self):
        raise NotImplementedError

    def _loop(self):
        while self.running:
            try:
                self.session()
            except Exception as exc:  # whatever broke the connection: try again
                log.warning("%s: %s; retrying in %.1fs", self.loop_name(), exc, self._pause)
                time.sleep(self._pause)  # green: nameko's runner patched time
                self._pause = min(self._pause * 2, LONGEST_PAUSE)
