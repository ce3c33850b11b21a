"""Bands handed from the level maker to a writer that pulls (tifffile, the PNG writer).

The level maker pushes each level's rows as they are made; tifffile and poolcli's
streamed writers pull an iterable. A :class:`Handoff` runs such a writer on its own
thread, fed through a small bounded queue, so the pushing side never holds more
than a few bands, and the writer's compression (zlib and friends release the GIL)
runs beside the pooling on another core. An error on either side stops both: the
writer's is raised again by :meth:`Handoff.close`, and a pusher that fails calls
:meth:`Handoff.abort`, which ends the writer's iterable with an error.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

_END = object()


class _Aborted(Exception):
    """The pushing side failed: the writer stops without finishing its file."""


class Handoff:
    """``write(bands)`` on a thread, fed by :meth:`put`; :meth:`close` waits for it."""

    def __init__(self, write: Callable[[Iterator[Any]], Any], depth: int = 2) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(write,), daemon=True)
        self._thread.start()

    def _bands(self) -> Iterator[np.ndarray]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Aborted):
                raise item
            yield item

    def _run(self, write: Callable[[Iterator[np.ndarray]], Any]) -> None:
        bands = self._bands()
        try:
            write(bands)
            for _ in bands:  # a writer may stop at its last tile: the rest are not needed
                pass
        except BaseException as error:  # noqa: BLE001 - raised again in the caller's thread
            self._error = error
        finally:
            self._done.set()

    def put(self, band: Any) -> None:
        """Hand ``band`` over (waits while the writer is a few bands behind)."""
        while not self._done.is_set():
            try:
                self._queue.put(band, timeout=0.1)
                return
            except queue.Full:
                continue
        self._raise()

    def close(self) -> None:
        """No more bands: wait for the writer to finish; its error, if any, is raised."""
        self._send(_END)
        self._thread.join()
        self._raise()

    def abort(self) -> None:
        """Stop the writer (the pushing side failed) and wait for it."""
        self._send(_Aborted("stopped"))
        self._thread.join()

    def _send(self, item: object) -> None:
        while not self._done.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _raise(self) -> None:
        error = self._error
        if error is not None and not isinstance(error, _Aborted):
            raise error
