"""The result cache of one server process: answers by request, least recently used out first,
bounded in entries and in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict

from cdkg.engine.evaluate import Answer, QueryRequest

#: Largest answer kept in the result cache (how many it keeps is ``settings.cache_entries``).
CACHE_ENTRY_BYTES = 1 << 20
#: Most bytes the result cache holds in all: its keys include the Host header, which clients choose.
CACHE_BYTES = 64 << 20


class ResultCache:
    """Answers kept by request (text, format, dataset, base, host): at most ``entries`` of them
    and :data:`CACHE_BYTES` in all; 0 entries turns the cache off."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._answers: OrderedDict[QueryRequest, Answer] = OrderedDict()
        self._lock = threading.Lock()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, request: QueryRequest) -> Answer | None:
        with self._lock:
            found = self._answers.get(request)
            if found is not None:
                self._answers.move_to_end(request)
            return found

    def put(self, request: QueryRequest, found: Answer) -> None:
        """Keep ``found`` unless it is large, depends on another endpoint, or caching is off; the
        least recently used answers go first."""
        if not self.entries or len(found.body) > CACHE_ENTRY_BYTES:
            return
        if found.called_out:
            return
        with self._lock:
            replaced = self._answers.pop(request, None)  # two misses for one query may race here
            if replaced is not None:
                self._bytes -= len(replaced.body)
            self._answers[request] = found
            self._bytes += len(found.body)
            while len(self._answers) > self.entries or self._bytes > CACHE_BYTES:
                _, dropped = self._answers.popitem(last=False)
                self._bytes -= len(dropped.body)
