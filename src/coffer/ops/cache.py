"""Django's Redis and memcached caches with one connection pool per process instead of one per request.

Django keeps a cache object per thread and per async context (`caches` is an asgiref Local), and its
RedisCache gives every such object its own redis-py pool. Under ASGI each request runs its sync code
in a thread of its own, so every request opened a new Redis connection (TCP connect, then the HELLO and
CLIENT SETINFO round trips) before its first GET, and dropped it afterwards: under the load test that
was a tenth of the web workers' CPU (Django ticket #35651). redis-py's pools are thread-safe and open
fresh connections after a fork, so one client per configuration serves every thread of the process.
Django's PyMemcacheCache does the same per thread and also disconnects at the end of every request;
pymemcache's pooled HashClient (`use_pooling`) is thread-safe, so it gets the same treatment.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.memcached import PyMemcacheCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[str, object] = {}
_lock = threading.Lock()


class _LockedPoolsClient(RedisCacheClient):
    def _get_connection_pool(self, write):
        index = self._get_connection_pool_index(write)
        if index not in self._pools:
            with _lock:  # two threads must not each build (and one leak) a pool for the same server
                if index not in self._pools:
                    return super()._get_connection_pool(write)
        return self._pools[index]


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _LockedPoolsClient

    @cached_property
    def _cache(self):
        key = repr((self._servers, sorted(self._options.items())))
        with _lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]


class SharedPoolMemcachedCache(PyMemcacheCache):
    @cached_property
    def _cache(self):
        key = repr(("memcached", self._servers, sorted(self._options.items())))
        with _lock:
            if key not in _clients:
                _clients[key] = self._class(self.client_servers, **self._options)
            return _clients[key]

    def close(self, **kwargs):
        pass  # Django calls this after every request: the process's pool stays open for the next one
