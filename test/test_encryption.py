"""Explicit client-side field level encryption with a local master key.

The local KMS provider needs no network: libmongocrypt (from the pymongocrypt
wheel) encrypts with the key given here, and the data keys live in a key vault
collection read and written through Motor.
"""

from __future__ import annotations

import os

import pytest
from bson import Binary
from bson.codec_options import CodecOptions
from bson.binary import STANDARD

pytest.importorskip("pymongocrypt", reason="pymongo[encryption] (pymongocrypt) is not installed")

from pymongo.encryption import Algorithm  # noqa: E402

import motor  # noqa: E402
from motor.motor_asyncio import AsyncIOMotorClientEncryption  # noqa: E402

DETERMINISTIC = Algorithm.AEAD_AES_256_CBC_HMAC_SHA_512_Deterministic
CODEC_OPTIONS = CodecOptions(uuid_representation=STANDARD)


@pytest.fixture
def kms_providers():
    return {"local": {"key": os.urandom(96)}}


@pytest.fixture
def key_vault_namespace(db_name):
    return f"{db_name}.__keyVault"


async def test_data_key_round_trip_encrypts_and_decrypts(client, kms_providers, key_vault_namespace):
    async with motor.MotorClientEncryption(
        kms_providers, key_vault_namespace, client, CODEC_OPTIONS
    ) as client_encryption:
        key_id = await client_encryption.create_data_key("local", key_alt_names=["motor-key"])
        assert isinstance(key_id, Binary)

        secret = await client_encryption.encrypt("attack at dawn", DETERMINISTIC, key_id=key_id)
        assert isinstance(secret, Binary) and secret.subtype == 6
        assert await client_encryption.decrypt(secret) == "attack at dawn"
        # Deterministic: the same input encrypts the same way, so it can be queried.
        assert await client_encryption.encrypt("attack at dawn", DETERMINISTIC, key_alt_name="motor-key") == secret

        stored = await client_encryption.get_key(key_id)
        assert stored["_id"] == key_id
        by_name = await client_encryption.get_key_by_alt_name("motor-key")
        assert by_name["_id"] == key_id
        keys = await (await client_encryption.get_keys()).to_list(None)
        assert [key["_id"] for key in keys] == [key_id]

        await client_encryption.add_key_alt_name(key_id, "second-name")
        assert (await client_encryption.get_key_by_alt_name("second-name"))["_id"] == key_id
        await client_encryption.remove_key_alt_name(key_id, "second-name")
        assert await client_encryption.get_key_by_alt_name("second-name") is None

        assert (await client_encryption.delete_key(key_id)).deleted_count == 1
        assert await client_encryption.get_key(key_id) is None


async def test_key_vault_is_written_through_the_motor_client(client, kms_providers, key_vault_namespace):
    db_name, coll_name = key_vault_namespace.split(".", 1)
    client_encryption = motor.MotorClientEncryption(kms_providers, key_vault_namespace, client, CODEC_OPTIONS)
    key_id = await client_encryption.create_data_key("local")
    assert await client[db_name][coll_name].count_documents({"_id": key_id}) == 1
    await client_encryption.close()


async def test_asyncio_flavour_and_callbacks(asyncio_client, kms_providers, key_vault_namespace, io_loop):
    import asyncio

    client_encryption = AsyncIOMotorClientEncryption(
        kms_providers, key_vault_namespace, asyncio_client, CODEC_OPTIONS
    )
    key_id = await client_encryption.create_data_key("local")
    outcome = asyncio.get_running_loop().create_future()
    client_encryption.encrypt(42, DETERMINISTIC, key_id=key_id, callback=lambda r, e: outcome.set_result((r, e)))
    secret, error = await outcome
    assert error is None
    assert await client_encryption.decrypt(secret) == 42
    await client_encryption.close()


async def test_decrypting_garbage_is_an_encryption_error(client, kms_providers, key_vault_namespace):
    from pymongo.errors import EncryptionError

    client_encryption = motor.MotorClientEncryption(kms_providers, key_vault_namespace, client, CODEC_OPTIONS)
    with pytest.raises(EncryptionError):
        await client_encryption.decrypt(Binary(b"\x01not a ciphertext", 6))
    await client_encryption.close()
