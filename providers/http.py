"""The shared HTTP layer every provider's client is built on.

One place for: base URL and timeouts, auth (any ``httpx.Auth``), the process's
requests-a-second limit per cloud endpoint (providers/ratelimit.py), retries with
exponential backoff and jitter on 429/5xx and connection errors (honouring
``Retry-After``), error mapping to :class:`ProviderError`, and offset
pagination. A cloud plugs in two small hooks: how to read an error message
out of a response, and (optionally) how to reject a 200 whose envelope says
it failed.

Non-idempotent POSTs are not retried after the server may have acted on them
(5xx, a connection dropped after sending, an unreadable answer): the error is
marked ``ambiguous`` and the engine looks the object up by its natural key
before trying again. A 429 or a connection that was never made is always safe
to retry: the server did nothing.

Answers are parsed here too (``request_json``): a malformed body is a
ProviderError naming the cloud and the operation, never a JSONDecodeError;
one of the wrong shape (a list or null where the API gives an object, a
string where it gives a number) is one too (:func:`shaped`).

Every exchange is bounded (:class:`Limits`, a provider block's settings), at
the socket (providers/deadlines.py), so a server trickling bytes cannot stretch
any wait: one call, all its attempts and pauses included, ends within
``operation_timeout``; each attempt's answer, its status line and headers
included, must arrive whole within ``timeout`` of being sent for; an answer
read into memory (JSON, a small file) larger than ``max_answer_size`` once
decoded is dropped as it streams in, never held. A streamed download or an
upload has no whole-body deadline (a large file may take long) but fails when
nothing moves for its ``*_idle_timeout`` or less than its ``*_min_rate`` bytes
a second move over that long; an upload's answer then has ``timeout``.

    client = HttpClient("bitbar", url, auth=httpx.BasicAuth(key, ""))
    project = client.request("GET", "/api/v2/me/projects/1", operation="read project").json()
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labform.providers import ratelimit
from labform.providers.errors import NotFoundError, Overdue, ProviderError
from labform.providers.limits import Limits
from labform.providers.reads import Fanout
from labform.providers.transfer import download as save_body
from labform.providers.transfer import progress_bar

# httpx is imported by the functions that call it, so validate (which builds no client) never loads it.
if TYPE_CHECKING:
    import httpx

    from labform.providers.deadlines import Bound

log = logging.getLogger("labform.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass
class RetryPolicy:
    # At 30% faults, 5 attempts all fail once in ~400 requests (an apply sends hundreds); 8, once in ~15,000.
    attempts: int = 8
    backoff: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        base = self.backoff * (2**attempt)
        return min(base + random.uniform(0, base), self.max_delay)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date; anything else (``soon``) is ignored, and
    the usual backoff applies."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        log.info("ignoring a Retry-After that is neither seconds nor a date: %r", value[:40])
        return None
    return max(0.0, parsed.timestamp() - time.time())


def shaped(value: Any, kind: type | tuple[type, ...], cloud: str, operation: str, what: str = "the answer") -> Any:
    """``value`` if it is a ``kind`` (bool is never a number), else a ProviderError saying what came
    instead: a list, null or swapped field where the API gives an object never reaches a caller."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
        return value
    expected = " or ".join(_JSON_NAMES.get(k, k.__name__) for k in kinds)
    raise ProviderError(
        cloud,
        operation,
        None,
        f"{what} is {_JSON_NAMES.get(type(value), type(value).__name__)} where the API gives {expected}"
        " (the server does not answer as its API says; check the endpoint)",
    )


def member(body: Any, key: str, kind: type | tuple[type, ...], cloud: str, operation: str) -> Any:
    """``body[key]``, checked to be an object holding a ``kind`` there (see :func:`shaped`)."""
    shaped(body, dict, cloud, operation)
    return shaped(body.get(key), kind, cloud, operation, f"the answer's '{key}'")


_JSON_NAMES: dict[type, str] = {
    dict: "an object",
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
    type(None): "null",
}


def default_error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "msg", "error", "detail"):
            if body.get(key):
                return str(body[key])
    return str(body)[:200]


def envelope_check(
    code_key: str, explain: Callable[[dict[str, Any], int], str]
) -> Callable[[httpx.Response], tuple[int, str] | None]:
    """A ``check_envelope`` hook for clouds that answer HTTP 200 with ``{code_key: non-zero}`` on failure.

    The hook returns (code, explanation) for a failure, None for success.
    """

    def check(response: httpx.Response) -> tuple[int, str] | None:
        try:
            body = response.json()
        except ValueError:
            return response.status_code, f"the answer is not JSON (expected the {code_key} envelope)"
        if not isinstance(body, dict) or code_key not in body:
            return response.status_code, f"the answer has no {code_key} envelope"
        code = body[code_key]
        if isinstance(code, bool) or not isinstance(code, int):
            return response.status_code, f"the answer's {code_key} is {code!r}, not a number"
        return None if code == 0 else (code, explain(body, code))

    return check


def transport_failure(exc: httpx.TransportError) -> str:
    """Which URL failed and how (refused, DNS, TLS, bad scheme, timeout), so the fix is plain."""
    import httpx

    url: httpx.URL | str
    try:
        url = exc.request.url.copy_with(query=None)
    except RuntimeError:  # raised before a request existed
        url = "the endpoint"
    cause = str(exc).lower()
    if isinstance(exc, httpx.UnsupportedProtocol):
        how = "bad scheme (the endpoint must start with http:// or https://)"
    elif isinstance(url, httpx.URL) and not url.host:
        how = "the URL has no host name (write the endpoint as https://host/...)"
    elif isinstance(exc, httpx.TimeoutException):
        how = f"timed out ({type(exc).__name__})"
    elif "refused" in cause:
        how = "connection refused (is the endpoint's host and port right, and the server up?)"
    elif any(word in cause for word in ("name or service", "nodename", "getaddrinfo", "name resolution", "no address")):
        how = f"DNS lookup failed for '{getattr(url, 'host', url)}'"
    elif any(word in cause for word in ("ssl", "tls", "certificate")):
        how = f"TLS handshake failed ({exc})"
    else:
        how = f"{type(exc).__name__}{f' ({exc})' if str(exc) else ''}"
    return f"connection to {url} failed: {how}"


def credentials_hint(names: tuple[str, ...]) -> str:
    """For a 401/403: which settings hold the credentials to check (the provider's sensitive ones)."""
    return f"; check the provider's credentials ({', '.join(names)})" if names else "; check the provider's credentials"


def retry_sleep() -> Callable[[float], None]:
    """How a client pauses between retries when none is given: ``time.sleep``.

    Test-only: ``LABFORM_RETRY_SLEEP=none`` makes the pause return at once (the delay is still
    computed and logged), so the test suite's faults cost no wall time. Nothing else reads it;
    a test of the delays themselves injects its own ``sleep`` and records them.
    """
    from os import environ

    return (lambda seconds: None) if environ.get("LABFORM_RETRY_SLEEP") == "none" else time.sleep


class HttpClient:
    """A cloud's HTTP session. Subclass-free: behaviour comes in through the hooks."""

    def __init__(
        self,
        cloud: str,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        error_message: Callable[[httpx.Response], str] = default_error_message,
        check_envelope: Callable[[httpx.Response], tuple[int, str] | None] | None = None,
        not_found_codes: frozenset[int] = frozenset(),
        sleep: Callable[[float], None] | None = None,
        limits: Limits | None = None,
    ):
        import httpx

        from labform.providers.deadlines import bounded_transport

        self.cloud = cloud
        self.timeout = timeout
        self.limits = limits or Limits()
        self.retry = retry or RetryPolicy()
        self.error_message = error_message
        self.check_envelope = check_envelope
        # Envelope codes that mean "no such object" (clouds that answer 200 with an error code).
        self.not_found_codes = not_found_codes
        self.sleep = sleep or retry_sleep()
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=auth,
            headers={"User-Agent": "labform", **(headers or {})},
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=bounded_transport(),
        )

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        idempotent: bool | None = None,
        json_answer: bool = False,
        readable: Callable[[bytes], bool] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response or raise ProviderError. ``json_answer``: the
        answer must be JSON; ``readable``: its body must pass this check (a JUnit file, not a
        gateway's page or a cut one). A safe request whose answer is not is sent again."""
        return self._send(
            method,
            path,
            operation,
            idempotent,
            False,
            kwargs,
            expect_json=json_answer or self.check_envelope is not None,
            readable=readable,
        )

    def request_json(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        idempotent: bool | None = None,
        empty_ok: bool = False,
        key: str | None = None,
        shape: type | tuple[type, ...] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Like request(), returning the parsed JSON body — its ``key`` member when given —
        or None for an empty body when ``empty_ok``; checked to be a ``shape`` when given."""
        response = self._send(
            method, path, operation, idempotent, False, kwargs, expect_json=True, empty_ok=empty_ok and key is None
        )
        body = self.parsed(response, operation, safe=self._is_safe(method, idempotent), empty_ok=empty_ok, key=key)
        if shape is None:
            return body
        return shaped(body, shape, self.cloud, operation, f"the answer's '{key}'" if key else "the answer")

    def parsed(
        self,
        response: httpx.Response,
        operation: str,
        safe: bool = True,
        empty_ok: bool = False,
        key: str | None = None,
    ) -> Any:
        """The JSON body (or its ``key``), else a ProviderError saying the answer was unreadable
        (ambiguous unless ``safe``: the request may have been carried out)."""
        if empty_ok and key is None and not response.content:
            return None
        try:
            body = response.json()
            return body if key is None else body[key]
        except (ValueError, KeyError, TypeError):
            expected = f"a JSON object with '{key}'" if key else "valid JSON"
            shown = response.text[:80] if response.content else "an empty body"
            raise ProviderError(
                self.cloud,
                operation,
                response.status_code,
                f"the answer is not {expected} ({shown!r})",
                ambiguous=not safe,
            ) from None

    @staticmethod
    def _is_safe(method: str, idempotent: bool | None) -> bool:
        return method in IDEMPOTENT_METHODS if idempotent is None else idempotent

    @contextmanager
    def stream(self, method: str, path: str, *, operation: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """Like request(), but the body is read by the caller as it arrives (large downloads)."""
        import httpx

        from labform.providers.deadlines import Bound, Pace, bounded

        response = self._send(method, path, operation, None, True, kwargs)
        limits = self.limits
        pace = Pace(limits.download_min_rate, limits.download_idle_timeout, "download", "download_min_rate")
        try:
            with bounded(Bound(self._answer_fault(operation, response.status_code, True), reads=pace)):
                yield response
        except httpx.TransportError as exc:  # the body broke off half-way, or nothing came for the idle timeout
            raise ProviderError(self.cloud, operation, None, transport_failure(exc)) from None
        finally:
            response.close()

    def download(
        self, path: str, target: Path, *, operation: str, progress: Callable[[str], None], **params: Any
    ) -> Path:
        """GET ``path`` into ``target`` chunk by chunk, starting again when the body breaks off
        (a GET is safe to repeat), with a progress bar on a terminal."""
        attempt = 0
        while True:
            try:
                with self.stream("GET", path, operation=operation, params=params or None) as response:
                    total = int(response.headers.get("content-length") or 0) or None
                    with progress_bar(f"download {target}", total, progress) as advance:
                        return save_body(response, target, advance)
            except ProviderError as error:
                attempt += 1
                if error.status is not None or attempt >= self.retry.attempts:
                    raise
                self._pause(operation, attempt - 1, self.retry.delay(attempt - 1, None), error.message)

    def _send(
        self,
        method: str,
        path: str,
        operation: str,
        idempotent: bool | None,
        stream: bool,
        kwargs: dict[str, Any],
        expect_json: bool = False,
        empty_ok: bool = False,
        readable: Callable[[bytes], bool] | None = None,
    ) -> httpx.Response:
        """``expect_json``: a safe request whose 2xx answer is not JSON (a gateway's page, a cut
        body; an empty one unless ``empty_ok``) is sent again like a 5xx; an unsafe one is left
        to the caller (it is ambiguous)."""
        import httpx

        from labform.providers.deadlines import bounded

        safe = self._is_safe(method, idempotent)
        deadline = time.monotonic() + self.limits.operation_timeout
        attempt = 0
        while True:
            try:
                request = self.http.build_request(method, path, **kwargs)
                ratelimit.take(self.cloud, str(self.http.base_url))
                with bounded(self._bound(operation, deadline, safe, upload="files" in kwargs)):
                    response = self.http.send(request, stream=True)
                    if not stream or response.status_code >= 400:  # the error message of a stream is in its body
                        response = self._read(response, operation, safe)
            except Overdue:
                delay = self._may_retry(attempt, deadline, None) if safe else None
                if delay is None:
                    raise
                self._pause(operation, attempt, delay, "an answer too slow to arrive")
                attempt += 1
                continue
            except httpx.UnsupportedProtocol as exc:
                raise ProviderError(
                    self.cloud, operation, None, transport_failure(exc)
                ) from None  # a typo: retrying cannot help
            except httpx.TransportError as exc:
                # A connection never made reached nobody: retrying is safe even for a POST.
                unsent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                delay = self._may_retry(attempt, deadline, None) if safe or unsent else None
                if delay is None:
                    raise ProviderError(
                        self.cloud, operation, None, transport_failure(exc), ambiguous=not (safe or unsent)
                    ) from None
                self._pause(operation, attempt, delay, type(exc).__name__)
                attempt += 1
                continue
            retryable = response.status_code == 429 or (safe and response.status_code >= 500)
            delay = self._may_retry(attempt, deadline, parse_retry_after(response.headers.get("Retry-After")))
            if retryable and delay is not None:
                response.close()
                self._pause(operation, attempt, delay, response.status_code)
                attempt += 1
                continue
            succeeded = response.status_code < 300
            unfit = succeeded and readable is not None and not readable(response.content)  # checked once per answer
            unreadable = unfit or (
                succeeded and expect_json and not (_is_json(response) or (empty_ok and not response.content))
            )
            delay = self._may_retry(attempt, deadline, None) if unreadable and safe else None
            if delay is not None:
                self._pause(operation, attempt, delay, "an unreadable answer")
                attempt += 1
                continue
            if unfit:
                shown = response.text[:80] if response.content else "an empty body"
                raise ProviderError(
                    self.cloud,
                    operation,
                    response.status_code,
                    f"the answer is unreadable ({shown!r})",
                    ambiguous=not safe,
                )
            return self._checked(response, operation, envelope=not stream, safe=safe)

    def _may_retry(self, attempt: int, deadline: float, retry_after: float | None) -> float | None:
        """The pause before another attempt, or None when the attempts are spent or the
        operation's deadline would pass during it (the last answer then stands)."""
        if attempt + 1 >= self.retry.attempts:
            return None
        delay = self.retry.delay(attempt, retry_after)
        return None if time.monotonic() + delay >= deadline else delay

    def _pause(self, operation: str, attempt: int, delay: float, why: object) -> None:
        log.info("%s: %s got %s (attempt %d); retrying in %.1fs", self.cloud, operation, why, attempt + 1, delay)
        self.sleep(delay)

    def _bound(self, operation: str, deadline: float, safe: bool, upload: bool) -> Bound:
        """One attempt's bound: its answer whole within ``timeout`` and the operation's deadline; an
        upload's body kept to the upload pace instead, its answer then given ``timeout``."""
        from labform.providers.deadlines import Bound, Pace

        fault = self._answer_fault(operation, None, safe)
        if upload:
            limits = self.limits
            pace = Pace(limits.upload_min_rate, limits.upload_idle_timeout, "upload", "upload_min_rate")
            return Bound(fault, writes=pace, answer_within=(self.timeout, "timeout"))
        now = time.monotonic()
        if now + self.timeout >= deadline:
            return Bound(fault, until=(deadline, "operation_timeout"))
        return Bound(fault, until=(now + self.timeout, "timeout"))

    def _read(self, response: httpx.Response, operation: str, safe: bool) -> httpx.Response:
        """The answer read whole and decoded, under the size cap as it streams in (a compressed answer
        is counted as it inflates), else a ProviderError; its deadline is the attempt's bound."""
        import httpx

        fault = self._answer_fault(operation, response.status_code, safe)
        try:
            declared = int(response.headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        parts: list[bytes] = []
        try:
            self._within_cap(declared, fault)  # a declared size past the cap is refused before a byte is read
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                self._within_cap(size, fault)
                parts.append(chunk)
        finally:
            response.close()
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DECODED_AWAY]
        return httpx.Response(response.status_code, headers=headers, content=b"".join(parts), request=response.request)

    def _within_cap(self, size: int, fault: Callable[[str, bool], Exception]) -> None:
        cap = self.limits.max_answer_size
        if size > cap:
            raise fault(
                f"the answer is larger than max_answer_size ({cap} bytes) and was dropped unread: "
                "check the endpoint, or raise 'max_answer_size' in the provider block",
                False,
            )

    def _answer_fault(self, operation: str, status: int | None, safe: bool) -> Callable[[str, bool], Exception]:
        """How a bound or the size cap reports a fault: a ProviderError naming the cloud, the operation, the fix."""

        def fault(message: str, retryable: bool) -> Exception:
            return (Overdue if retryable else ProviderError)(self.cloud, operation, status, message, ambiguous=not safe)

        return fault

    def _checked(
        self, response: httpx.Response, operation: str, envelope: bool = True, safe: bool = True
    ) -> httpx.Response:
        if response.status_code == 404:
            raise NotFoundError(self.cloud, operation, 404, self.error_message(response))
        if response.status_code >= 400:
            hint = credentials_hint(self.limits.credential_settings) if response.status_code in (401, 403) else ""
            raise ProviderError(
                self.cloud,
                operation,
                response.status_code,
                self.error_message(response) + hint,
                ambiguous=not safe and response.status_code >= 500,
            )
        if envelope and self.check_envelope is not None:
            self.parsed(response, operation, safe)  # an unreadable envelope says nothing about success
            failure = self.check_envelope(response)
            if failure is not None:
                error = NotFoundError if failure[0] in self.not_found_codes else ProviderError
                raise error(self.cloud, operation, failure[0], failure[1])
        return response


# Headers that describe the body as it came off the line, not the decoded body an answer keeps.
_DECODED_AWAY = frozenset({"content-encoding", "content-length"})


def _is_json(response: httpx.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


@dataclass
class Page:
    items: list[Any]
    has_more: bool
    # Items in the whole listing, where the API says (Bitbar's ``total``).
    total: int | None = None


def paginate(fetch: Callable[[int], Page], start: int = 0, fanout: Fanout | None = None) -> Iterator[Any]:
    """Yield every item of an offset-paged listing; ``fetch(offset)`` reads one page.

    Given a ``fanout``, once a page says the listing's ``total`` the pages after it are
    read at once (at the offsets its size gives), and only a listing that grew meanwhile
    is read on page by page. Without one, pages are read one by one (a caller that stops
    early reads no further)."""
    offset, page = start, fetch(start)
    while True:
        yield from page.items
        if not page.has_more or not page.items:
            return
        offset += len(page.items)
        if fanout is not None and page.total is not None and page.total > offset:
            offsets = list(range(offset, page.total, len(page.items)))
            pages = fanout.map(fetch, offsets)
            fanout = None
            for earlier in pages[:-1]:
                yield from earlier.items
            offset, page = offsets[-1], pages[-1]
            continue
        page = fetch(offset)
