"""Decisions in batches: concurrent checks share one :func:`~riskml.serving.book.check_orders` call.

The policy (:func:`riskml.scoring.policy.apply_policy`) costs about the same for one row as for a few
hundred (its cost is pandas' per-call overhead), so one worker thread takes every order waiting when it
becomes free and decides them together. Under light load a batch is one order (no added wait); under
heavy load the batches grow and the cost per order falls. Each order is still decided from its own row only.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any

from riskml.serving.book import Book, OrderInput, check_orders

_STOP = object()


class DecisionBatcher:
    def __init__(self, book: Book, max_batch: int = 256):
        self.book = book
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="riskml-decide", daemon=True)
        self._thread.start()

    def decide(self, order: OrderInput, timeout: float = 30.0) -> dict[str, Any]:
        fut: Future[dict[str, Any]] = Future()
        self._queue.put((order, fut))
        return fut.result(timeout=timeout)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(nxt)
            try:
                results = check_orders(self.book, [o for o, _ in batch])
            except Exception:  # noqa: BLE001 - decide one by one so one bad order fails alone
                for o, fut in batch:
                    try:
                        fut.set_result(check_orders(self.book, [o])[0])
                    except Exception as exc:  # noqa: BLE001 - handed to the waiting request
                        fut.set_exception(exc)
                continue
            for (_, fut), res in zip(batch, results, strict=True):
                fut.set_result(res)
