"""jieba tokenisation shared by the search index and the queries against it."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Iterable

import jieba

from . import config

jieba.setLogLevel(logging.WARNING)

_WORD = re.compile(r"[\w\u3400-\u9fff]+")


@lru_cache(maxsize=8)
def _tokenizer(words: tuple[str, ...]) -> jieba.Tokenizer:
    """An isolated jieba tokenizer knowing the catalogue's own words (names, aliases)."""
    tokenizer = jieba.Tokenizer()
    cache_dir = config.cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    # jieba's default cache in the shared temp folder has permission problems (fxsjy/jieba #26)
    tokenizer.tmp_dir = str(cache_dir)
    tokenizer.initialize()
    for word in words:
        tokenizer.add_word(word)
    return tokenizer


def vocabulary_key(words: Iterable[str]) -> tuple[str, ...]:
    """The form of a word list that tokenize() caches its tokenizer by."""
    return tuple(sorted(set(words)))


def tokenize(text: str, vocabulary: tuple[str, ...] = ()) -> list[str]:
    """Search tokens of text: jieba's search-mode words, lower-cased, punctuation dropped.

    vocabulary is the catalogue's own words, as vocabulary_key() gives them.
    """
    tokenizer = _tokenizer(vocabulary)
    found = []
    for token in tokenizer.cut_for_search(text):
        token = token.strip().lower()
        if token and _WORD.fullmatch(token):
            found.append(token)
    return list(dict.fromkeys(found))


def pieces(text: str) -> list[str]:
    """Overlapping two-character pieces of each Chinese run, and each Latin word: a fallback match."""
    runs = re.findall(r"[\u3400-\u9fff]+", text)
    found = [run[i:i + 2] for run in runs for i in range(max(1, len(run) - 1))]
    found += re.findall(r"[a-z0-9]+", text.lower())
    return list(dict.fromkeys(found))


def user_dictionary(words: Iterable[str]) -> str:
    """A jieba user dictionary (one `word freq` per line) for the catalogue's multi-character words."""
    unique = sorted({w.strip() for w in words if len(w.strip()) > 1 and not re.search(r"\s", w.strip())})
    return "".join(f"{word} 2000\n" for word in unique)
