"""Token buckets in memory, per key: how often something may happen before it is refused.

One process's view (the README says: one app process per database). The table of buckets is
bounded: the least recently used keys are forgotten first, so a flood of addresses cannot grow it."""
from __future__ import annotations

import time
from collections import OrderedDict


class RateLimit:
    def __init__(self, per_second: float, burst: float, max_keys: int = 100_000, clock=time.monotonic):
        self.rate, self.burst, self.max_keys, self.clock = per_second, burst, max_keys, clock
        self._buckets: OrderedDict = OrderedDict()

    def allow(self, key) -> bool:
        """Take one token for `key`; False when none is left."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        ok = tokens >= 1
        self._buckets[key] = (tokens - 1 if ok else tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return ok

    def retry_after(self, key) -> int:
        """Whole seconds until `key` has a token again."""
        tokens, _ = self._buckets.get(key, (self.burst, 0))
        return max(1, int((1 - tokens) / self.rate + 0.999)) if tokens < 1 else 0
