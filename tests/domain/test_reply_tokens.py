"""Reply-link tokens: long, URL-safe, unguessable without the key, stored as a hash."""

from __future__ import annotations

import re
import uuid

from parley.domain.reply_tokens import derive_token, hash_token


def test_token_is_url_safe_and_carries_at_least_128_bits() -> None:
    token = derive_token("secret", uuid.uuid4())
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    assert len(token) * 6 >= 128


def test_the_same_link_gives_the_same_token() -> None:
    link = uuid.uuid4()
    assert derive_token("secret", link) == derive_token("secret", link)


def test_another_key_gives_another_token() -> None:
    link = uuid.uuid4()
    assert derive_token("secret", link) != derive_token("other secret", link)


def test_each_link_gets_its_own_token() -> None:
    tokens = {derive_token("secret", uuid.uuid4()) for _ in range(1000)}
    assert len(tokens) == 1000


def test_the_stored_hash_does_not_contain_the_token() -> None:
    token = derive_token("secret", uuid.uuid4())
    assert token not in hash_token(token)
    assert len(hash_token(token)) == 64
