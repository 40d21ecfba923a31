"""Request bodies sent with ``Transfer-Encoding: chunked``: read whole, or refused.

Django sizes the body it reads by ``CONTENT_LENGTH`` and reads nothing when it is missing
(``WSGIRequest`` wraps ``wsgi.input`` in a ``LimitedStream`` of length 0). A chunked request
carries no Content-Length, so a chunked ``PATCH`` was parsed as an empty body, saved as a
no-op and acknowledged with 200, and a chunked ``POST`` was told that every field is missing.

gunicorn decodes the chunks itself and says so with ``wsgi.input_terminated`` (the stream ends
where the body ends). There this WSGI wrapper reads the body to its end, at most
``MAX_REQUEST_BODY_BYTES``, into a spooled file and hands Django an ordinary body with its
length. A server that does not decode chunks (runserver, wsgiref) leaves the request as it is,
and ``RequestHygieneMiddleware`` refuses it with 411: a body nobody can read is never taken
for an empty one.
"""

import tempfile

from django.conf import settings

# Above this many bytes a chunked body is refused with 413 (the middleware answers).
TOO_LARGE_FLAG = "formulary.chunked_body_too_large"
SPOOL_IN_MEMORY_BYTES = 1024 * 1024
READ_BYTES = 64 * 1024


def is_chunked(environ) -> bool:
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def dechunk(environ):
    """Replace a terminated chunked body by the same bytes with a Content-Length; returns
    the spooled file to close when the response is done (None when refused as too large)."""
    limit = settings.MAX_REQUEST_BODY_BYTES
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
    size = 0
    stream = environ["wsgi.input"]
    while chunk := stream.read(READ_BYTES):
        size += len(chunk)
        if size > limit:
            body.close()
            environ[TOO_LARGE_FLAG] = True
            return None
        body.write(chunk)
    body.seek(0)
    environ["wsgi.input"] = body
    environ["CONTENT_LENGTH"] = str(size)
    del environ["HTTP_TRANSFER_ENCODING"]
    return body


class ClosingResponse:
    """The application's response, closing the spooled body with it (PEP 3333 close())."""

    def __init__(self, response, body):
        self.response = response
        self.body = body

    def __iter__(self):
        return iter(self.response)

    def close(self):
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            self.body.close()


def read_chunked_bodies(application):
    """WSGI middleware: see the module's docstring."""

    def wrapped(environ, start_response):
        body = None
        if (
            is_chunked(environ)
            and not environ.get("CONTENT_LENGTH")
            and environ.get("wsgi.input_terminated")
        ):
            body = dechunk(environ)
        response = application(environ, start_response)
        return response if body is None else ClosingResponse(response, body)

    return wrapped
