"""Neighbour help as plain rules: the states of an offer and of a request. No I/O."""

from __future__ import annotations

import enum


class OfferStatus(enum.StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    HANDED_OVER = "handed_over"
    WITHDRAWN = "withdrawn"


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    FULFILLED = "fulfilled"
    WITHDRAWN = "withdrawn"
