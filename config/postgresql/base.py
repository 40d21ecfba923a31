"""Django's PostgreSQL backend with a health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django asks a reused connection ``SELECT 1`` before the first
query of every request: a round trip to the server on every read, cached ones included (the
version query is a cached read's only query). A connection the server has closed (a restart,
``pg_terminate_backend``, an idle timeout) has the server's farewell waiting on its socket, so
an idle connection with nothing to read is taken as usable without asking; only one with input
waiting, or not idle, pays for Django's ``SELECT 1``. Measured: 2 µs instead of 17 µs of
this process's CPU and 27 µs of waiting, and the server's own work for the query.

It also gives ``prepared_cursor()``, for the few statements every request runs whose plan does
not depend on their values (formulary.common.statements): the server parses and plans each once
per connection instead of on every request.
"""

import select
import sys

from django.conf import settings
from django.db.backends.postgresql import base, operations
from psycopg import pq


class PreparingCursor(base.ServerBindingCursor):
    """Binds the values on the server and asks it to keep each statement prepared."""

    def execute(self, query, params=None, *, prepare=True, **kwargs):
        return super().execute(query, params, prepare=prepare, **kwargs)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        if isinstance(cursor, PreparingCursor):
            # psycopg keeps no text of a statement it runs prepared: the statement as Django
            # writes it for server-side binding, for the query log (DEBUG, tests).
            return self.compose_sql(sql, params)
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if settings.DATABASE_PREPARED_STATEMENTS:
            # psycopg prepares nothing while the threshold is None (Django's default, for the
            # poolers' sake). With one that no statement reaches it prepares only what is asked
            # with prepare=True (PreparingCursor): Django's own cursors bind on the client and
            # never prepare.
            connection.prepare_threshold = sys.maxsize
        return connection

    def prepared_cursor(self):
        """A cursor like ``cursor()`` (logged, errors wrapped) whose statements are prepared;
        ``cursor()`` itself when ``DATABASE_PREPARED_STATEMENTS`` is off (a pooler that cannot
        keep a connection's prepared statements)."""
        if not settings.DATABASE_PREPARED_STATEMENTS:
            return self.cursor()
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = PreparingCursor(self.connection)
            # As Django's create_cursor: the timezone of the connection's loaders.
            tzloader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, base.Format.TEXT)
            if self.timezone != tzloader.timezone:
                base.register_tzloader(self.timezone, cursor)
            return self._prepare_cursor(cursor)

    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        if (
            pgconn.status == pq.ConnStatus.OK
            and pgconn.transaction_status == pq.TransactionStatus.IDLE
        ):
            waiting = select.poll()
            waiting.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
            if not waiting.poll(0):
                return True
        return super().is_usable()
