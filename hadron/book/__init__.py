"""L2 books on a bounded tick grid and the BookManager that keeps their integrity."""

from hadron.book.l2 import DEFAULT_TICK, L2Book
from hadron.book.manager import ApplyOutcome, BookManager, BookState, BookStats, ManagedBook

__all__ = ["DEFAULT_TICK", "ApplyOutcome", "BookManager", "BookState", "BookStats", "L2Book", "ManagedBook"]
