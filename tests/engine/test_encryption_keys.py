"""The pbkdf2 key provider derives through cryptography; files sealed earlier with hashlib's
PBKDF2 (the same function over the system's OpenSSL) must still open, so both give the same key."""

import hashlib

import pytest

from labform.engine.encryption import keys


@pytest.mark.parametrize("hash_function", ["sha512", "sha256"])
def test_the_key_is_the_one_hashlib_derived_before(hash_function):
    salt = bytes(range(32))
    derived = keys.pbkdf2("a passphrase long enough", salt, 2_000, hash_function)
    assert derived == hashlib.pbkdf2_hmac(hash_function, b"a passphrase long enough", salt, 2_000, 32)


def test_a_known_answer_for_sha512():
    # PBKDF2-HMAC-SHA512, P="password", S="salt", c=1: the first 32 bytes of the published vector
    expected = "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
    assert keys.pbkdf2("password", b"salt", 1, "sha512").hex() == expected
