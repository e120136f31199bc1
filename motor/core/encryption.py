"""MotorClientEncryption: explicit client-side field level encryption.

Needs PyMongo's encryption extra (``pip install 'pymongo[encryption]'``, which
brings pymongocrypt and libmongocrypt)::

    async with MotorClientEncryption(
        {"local": {"key": master_key}}, "encryption.__keyVault", client, CodecOptions()
    ) as client_encryption:
        key_id = await client_encryption.create_data_key("local")
        secret = await client_encryption.encrypt(
            "text", Algorithm.AEAD_AES_256_CBC_HMAC_SHA_512_Deterministic, key_id
        )

The key vault is read and written through the Motor client you pass. Requests
to a cloud KMS use PyMongo's own blocking sockets, so Motor runs them in a
thread (see :func:`install`) while the worker waits.

.. versionadded:: 4.0
"""

from __future__ import annotations

import functools
from typing import Any

from pymongo.encryption import ClientEncryption

from motor.core.metaprogramming import (
    AsyncCommand,
    MotorBase,
    MotorMeta,
    async_method,
    check_callback,
    unwrap,
)
from motor.frameworks import register_agnostic
from motor.runtime.timing import run_in_thread

__all__ = ["AgnosticClientEncryption", "install"]


@register_agnostic
class AgnosticClientEncryption(MotorBase, metaclass=MotorMeta):
    """Explicit encryption and data-key management over a Motor key vault client."""

    __motor_class_name__ = "MotorClientEncryption"
    __delegate_class__ = ClientEncryption

    add_key_alt_name = AsyncCommand()
    close = AsyncCommand()
    create_data_key = AsyncCommand()
    decrypt = AsyncCommand()
    delete_key = AsyncCommand()
    encrypt = AsyncCommand()
    encrypt_expression = AsyncCommand()
    get_key = AsyncCommand()
    get_key_by_alt_name = AsyncCommand()
    remove_key_alt_name = AsyncCommand()
    rewrap_many_data_key = AsyncCommand()

    def __init__(
        self,
        kms_providers: Any,
        key_vault_namespace: str,
        key_vault_client: Any,
        codec_options: Any,
        io_loop: Any = None,
        kms_tls_options: Any = None,
    ) -> None:
        self._client = key_vault_client
        if io_loop is not None and key_vault_client.io_loop is not io_loop:
            raise ValueError("io_loop must be the key vault client's loop")
        self.delegate = ClientEncryption(
            kms_providers, key_vault_namespace, key_vault_client.delegate, codec_options, kms_tls_options
        )

    @async_method
    def get_keys(self, callback: Any = None) -> Any:
        """A MotorCursor over every data key in the key vault."""
        check_callback(callback)
        cursor_class = self._motor_class("AgnosticCursor")
        return self._runtime.start(
            lambda: cursor_class._from_delegate(self.delegate.get_keys(), self), callback=callback
        )

    @async_method
    def create_encrypted_collection(
        self, database: Any, name: str, encrypted_fields: Any, *args: Any, callback: Any = None, **kwargs: Any
    ) -> Any:
        """Create a Queryable Encryption collection; resolves to (MotorCollection, fields)."""
        check_callback(callback)
        collection_class = self._motor_class("AgnosticCollection")

        def create() -> tuple:
            collection, fields = self.delegate.create_encrypted_collection(
                unwrap(database), name, encrypted_fields, *args, **kwargs
            )
            return collection_class._from_delegate(collection, self), fields

        return self._runtime.start(create, callback=callback)

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()


def _in_thread(method: Any) -> Any:
    @functools.wraps(method)
    def call(self: Any, *args: Any) -> Any:
        return run_in_thread(method, self, *args)

    call.motor_in_thread = True  # type: ignore[attr-defined]
    return call


def install() -> None:
    """Make PyMongo's KMS requests and mongocryptd calls run off the loop. Idempotent.

    They use PyMongo's own blocking sockets (and may spawn mongocryptd); in a
    Motor worker they now run in a thread while the worker waits, and
    anywhere else exactly as before.
    """
    try:
        from pymongo.synchronous.encryption import _EncryptionIO
    except ImportError:  # pragma: no cover - PyMongo always has the module
        return
    for name in ("kms_request", "mark_command", "spawn"):
        method = getattr(_EncryptionIO, name)
        if not getattr(method, "motor_in_thread", False):
            setattr(_EncryptionIO, name, _in_thread(method))
