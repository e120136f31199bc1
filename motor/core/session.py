"""MotorClientSession: causally consistent sessions and transactions.

::

    async with await client.start_session() as session:
        async with session.start_transaction():
            await orders.insert_one(order, session=session)
            await stock.update_one(item, {"$inc": {"qty": -1}}, session=session)

        # or, retrying transient errors as MongoDB recommends:
        async def place_order(session):
            ...
        await session.with_transaction(place_order)

.. versionadded:: 4.0
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

from pymongo.client_session import ClientSession
from pymongo.errors import OperationFailure, PyMongoError

from motor.core.metaprogramming import (
    AsyncCommand,
    DelegateMethod,
    MotorBase,
    MotorMeta,
    ReadOnlyProperty,
    coroutine_method,
)
from motor.frameworks import register_agnostic

__all__ = ["AgnosticClientSession"]

# MongoDB's convenient-transactions specification: retry for up to 120 s.
WITH_TRANSACTION_RETRY_TIME_LIMIT = 120
_MAX_TIME_EXPIRED = 50


class _TransactionContext:
    """``async with session.start_transaction():`` commits, or aborts on error."""

    def __init__(self, session: AgnosticClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> _TransactionContext:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._session.in_transaction:
            if exc_type is None:
                await self._session.commit_transaction()
            else:
                await self._session.abort_transaction()


class _BoundSession:
    """``with session.bind():`` / ``async with session.bind():``.

    Operations inside pass the session implicitly (PyMongo keeps it in a
    ContextVar, which Motor copies into its workers).
    """

    def __init__(self, session: AgnosticClientSession, end_session: bool) -> None:
        self._session = session
        self._end_session = end_session
        self._bound = session.delegate.bind(end_session=False)

    def __enter__(self) -> AgnosticClientSession:
        self._bound.__enter__()
        return self._session

    def __exit__(self, *exc_info: Any) -> None:
        self._bound.__exit__(*exc_info)
        if self._end_session:
            self._session.end_session()

    async def __aenter__(self) -> AgnosticClientSession:
        return self.__enter__()

    async def __aexit__(self, *exc_info: Any) -> None:
        self._bound.__exit__(*exc_info)
        if self._end_session:
            await self._session.end_session()


@register_agnostic
class AgnosticClientSession(MotorBase, metaclass=MotorMeta):
    """A session; get one with ``await client.start_session()``."""

    __motor_class_name__ = "MotorClientSession"
    __delegate_class__ = ClientSession

    cluster_time = ReadOnlyProperty()
    has_ended = ReadOnlyProperty()
    in_transaction = ReadOnlyProperty()
    operation_time = ReadOnlyProperty()
    options = ReadOnlyProperty()
    session_id = ReadOnlyProperty()

    advance_cluster_time = DelegateMethod()
    advance_operation_time = DelegateMethod()

    abort_transaction = AsyncCommand()
    commit_transaction = AsyncCommand()
    end_session = AsyncCommand()

    @property
    def client(self) -> Any:
        """The MotorClient this session belongs to."""
        return self._client

    def bind(self, end_session: bool = True) -> _BoundSession:
        """Pass this session implicitly to every operation in the block.

        ::

            async with session.bind():
                await collection.insert_one({"x": 1})  # session=session implied

        With ``end_session=True`` (the default) the session ends with the block.
        """
        return _BoundSession(self, end_session)

    def start_transaction(
        self,
        read_concern: Any = None,
        write_concern: Any = None,
        read_preference: Any = None,
        max_commit_time_ms: int | None = None,
    ) -> _TransactionContext:
        """Start a transaction (no I/O until the first operation).

        Use as ``async with session.start_transaction():`` to commit on
        success and abort on an exception.
        """
        self.delegate.start_transaction(
            read_concern=read_concern,
            write_concern=write_concern,
            read_preference=read_preference,
            max_commit_time_ms=max_commit_time_ms,
        )
        return _TransactionContext(self)

    @coroutine_method
    async def with_transaction(
        self,
        coro: Callable[[Any], Awaitable[Any]],
        read_concern: Any = None,
        write_concern: Any = None,
        read_preference: Any = None,
        max_commit_time_ms: int | None = None,
    ) -> Any:
        """Run ``await coro(session)`` in a transaction and commit.

        Retries the whole transaction on a ``TransientTransactionError`` and
        the commit on an ``UnknownTransactionCommitResult``, for up to 120 s,
        as MongoDB's convenient-transactions specification says. Returns what
        ``coro`` returned.
        """
        started = time.monotonic()

        def within_limit() -> bool:
            return time.monotonic() - started < WITH_TRANSACTION_RETRY_TIME_LIMIT

        while True:
            self.start_transaction(read_concern, write_concern, read_preference, max_commit_time_ms)
            try:
                result = await coro(self)
            except BaseException as exc:
                if self.in_transaction:
                    await self.abort_transaction()
                if (
                    isinstance(exc, PyMongoError)
                    and exc.has_error_label("TransientTransactionError")
                    and within_limit()
                ):
                    continue
                raise
            if not self.in_transaction:
                # The function committed or aborted on its own.
                return result
            while True:
                try:
                    await self.commit_transaction()
                except PyMongoError as exc:
                    if (
                        exc.has_error_label("UnknownTransactionCommitResult")
                        and within_limit()
                        and not (
                            isinstance(exc, OperationFailure) and exc.code == _MAX_TIME_EXPIRED
                        )
                    ):
                        continue
                    if exc.has_error_label("TransientTransactionError") and within_limit():
                        break
                    raise
                return result

    async def __aenter__(self) -> AgnosticClientSession:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.end_session()

    def __enter__(self) -> None:
        # AttributeError, as Motor 3 raises: code written for it may catch that.
        raise AttributeError(
            "a Motor session is an async context manager: write "
            "'async with await client.start_session() as session:', not 'with'"
        )

    def __exit__(self, *exc_info: Any) -> None:
        pass
