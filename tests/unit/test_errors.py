"""Retry and skip policy is written on the error classes; the tuples Celery and the tasks take are derived."""

from __future__ import annotations

from workers.errors import (
    RETRYABLE_ERRORS,
    SKIP_ERRORS,
    BlockedAddress,
    BodyTooLarge,
    DocumentRejected,
    DuplicateContent,
    ElasticsearchUnavailable,
    ExtractProcessLost,
    FetchConnectionError,
    FetchTimeout,
    HTTPStatusError,
    NoReadableContent,
    ReadqError,
    RobotsDisallowed,
    RobotsUnavailable,
    ServerError,
    TooManyRedirects,
    UnsupportedContentType,
    error_classes,
    is_retryable_status,
)


def test_retryable_errors_are_the_classes_that_say_so() -> None:
    assert set(RETRYABLE_ERRORS) == {FetchTimeout, FetchConnectionError, ServerError, RobotsUnavailable,
                                     ExtractProcessLost, ElasticsearchUnavailable}


def test_skip_errors_are_the_classes_whose_outcome_is_skipped() -> None:
    assert set(SKIP_ERRORS) == {BlockedAddress, RobotsDisallowed, UnsupportedContentType, BodyTooLarge,
                                NoReadableContent, DuplicateContent}


def test_no_error_both_retries_and_skips_and_the_rest_fail_at_once() -> None:
    assert not set(RETRYABLE_ERRORS) & set(SKIP_ERRORS)
    final = set(error_classes()) - set(RETRYABLE_ERRORS) - set(SKIP_ERRORS)
    assert {HTTPStatusError, TooManyRedirects, DocumentRejected, ReadqError} <= final
    assert all(not cls.retryable and cls.outcome == "failed" for cls in final)


def test_a_subclass_inherits_its_parents_policy() -> None:
    assert issubclass(ServerError, HTTPStatusError)
    assert ServerError.retryable and not HTTPStatusError.retryable
    assert set(error_classes(HTTPStatusError)) == {HTTPStatusError, ServerError}


def test_every_5xx_and_the_listed_codes_are_retryable() -> None:
    codes = frozenset({408, 429})
    statuses = (404, 408, 429, 499, 500, 503, 599)
    assert [s for s in statuses if is_retryable_status(s, codes)] == [408, 429, 500, 503, 599]
    assert not is_retryable_status(429, frozenset())
