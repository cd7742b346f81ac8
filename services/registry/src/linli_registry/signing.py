"""The registry's secrets at work: its token signing key, password hashes, refresh tokens and
one-time codes. Nothing here touches the database."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import threading

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pwdlib import PasswordHash

PASSWORDS = PasswordHash.recommended()  # Argon2id with pwdlib's recommended parameters
HASHING = threading.BoundedSemaphore(2)
"""Argon2id takes 64 MiB and a few cores per hash: at most two at once, however many sign in."""


@functools.cache
def unknown_password_hash() -> str:
    """Checked against when the phone has no password, so an unknown phone takes as long as a known one."""
    return PASSWORDS.hash(secrets.token_urlsafe(16))


@functools.lru_cache(maxsize=4)
def private_key(pem: str) -> Ed25519PrivateKey:
    """The Ed25519 key of a PEM text (its line breaks may be written as \\n, to fit on one line
    of an environment file); ValueError for anything else."""
    key = load_pem_private_key(pem.replace("\\n", "\n").encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key must be an Ed25519 private key")
    return key


def hash_password(password: str) -> str:
    """Blocking: call from a worker thread."""
    with HASHING:
        return PASSWORDS.hash(password)


def password_matches(password: str, password_hash: str | None) -> bool:
    """Whether the password is the account's; always does the work of one check. Blocking: call
    from a worker thread."""
    with HASHING:
        matches = PASSWORDS.verify(password, password_hash or unknown_password_hash())
    return matches and password_hash is not None


def new_refresh_token() -> tuple[str, str]:
    """A refresh token's text (given to the client once) and the hash that is stored."""
    text = secrets.token_urlsafe(32)
    return text, refresh_token_hash(text)


def refresh_token_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_code() -> str:
    """A six-digit one-time code."""
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(key: str, phone: str, code: str) -> str:
    """A keyed hash of a code: a million codes are quickly tried against a plain hash."""
    return hmac.new(key.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def encrypt_code(key: str, code: str) -> str:
    """The code as only the holders of the key (the registry and notify) can read it."""
    return Fernet(key.encode()).encrypt(code.encode()).decode()


def decrypt_code(key: str, token: str) -> str:
    return Fernet(key.encode()).decrypt(token.encode()).decode()
