"""Progress of server start-up for ``seamless-init``, on standard error.

On a terminal one status line is redrawn while services are pending; when
piped, a plain line per event, so logs stay readable.
"""

from __future__ import annotations

import sys
import threading
import time

GREEN, RESET = "\x1b[32m", "\x1b[0m"


class Progress:
    def __init__(self, services: list[str], stream=None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.pending = list(services)
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = None

    def __enter__(self):
        if not self.pending:
            return self
        if self.live:
            self.thread = threading.Thread(target=self._redraw, daemon=True)
            self.thread.start()
        else:
            self._write("starting: " + ", ".join(self.pending) + "\n")
        return self

    def ready(self, handle) -> None:
        """A service is up (called from worker threads)."""
        with self.lock:
            if handle.service in self.pending:
                self.pending.remove(handle.service)
            how = "launched" if handle.launched else "reused"
            line = f"{handle.service} ready at {handle.url} ({how}, {handle.seconds:.2f} s)"
            self._write("\r\x1b[K" + GREEN + line + RESET + "\n" if self.live else line + "\n")

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
            self._write("\r\x1b[K")
        return False

    def _redraw(self) -> None:
        while not self.stop.wait(0.1):
            with self.lock:
                if self.pending:
                    waited = time.monotonic() - self.start
                    self._write(f"\r\x1b[Kwaiting for {', '.join(self.pending)}  {waited:4.1f} s")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
