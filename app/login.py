"""The chat's login (``auth = "user:password"``) with a lockout: after ``max_failures`` wrong
passwords for one user name within ``window`` seconds, that name is refused — even with the
right password — for ``lockout`` seconds, and every wrong answer is slower than the last (up
to 2 s), so 30 guesses no longer get 30 immediate answers.  Each failure and each lockout is
logged with the name tried."""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class LoginGuard:
    """Gradio's ``auth`` callable: ``guard(username, password) -> bool``."""

    def __init__(
        self,
        user: str,
        password: str,
        max_failures: int = 5,
        window: float = 300.0,
        lockout: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._user, self._password = user.encode(), password.encode()
        self.max_failures, self.window, self.lockout = max_failures, window, lockout
        self._clock, self._sleep = clock, sleep
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, username: str, password: str) -> bool:
        now = self._clock()
        name = str(username)[:100]
        with self._lock:
            if self._locked_until.get(name, 0.0) > now:
                log.warning("login refused for %r: locked after %d wrong passwords", name, self.max_failures)
                return False
        right = hmac.compare_digest(str(username).encode(), self._user) & hmac.compare_digest(
            str(password).encode(), self._password
        )
        if right:
            with self._lock:
                self._failures.pop(name, None)
            return True
        with self._lock:
            recent = [t for t in self._failures.get(name, []) if now - t < self.window] + [now]
            self._failures[name] = recent
            if len(recent) >= self.max_failures:
                self._locked_until[name] = now + self.lockout
                self._failures.pop(name, None)
                log.warning("login locked for %r for %.0f s after %d wrong passwords", name, self.lockout, len(recent))
            else:
                log.warning("wrong password for %r (%d of %d)", name, len(recent), self.max_failures)
        self._sleep(min(2.0, 0.25 * len(recent)))  # each wrong answer slower than the last
        return False
