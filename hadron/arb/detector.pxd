cimport cython
from hadron.book.manager cimport ManagedBook, BookManager

cdef class ArbDetector:
    cdef public BookManager books
    cdef public object thresholds
    cdef public object clock
    cdef public object suppressed
    cdef public Py_ssize_t evaluations
    cdef public object closed
    cdef public Py_ssize_t closed_count
    cdef public dict open
    cdef public Py_ssize_t _serial
    cdef public list _listeners
    cdef public dict _limits
    cdef dict _by_instrument
    cdef public dict _by_side
    cdef public dict _tops

    @cython.locals(book=ManagedBook, bids=bint, asks=bint)
    cpdef on_top(self, top)
    @cython.locals(book_a=ManagedBook, book_b=ManagedBook)
    cpdef evaluate(self, candidate, now_ns)

@cython.locals(book=ManagedBook)
cpdef object _best_ask(ManagedBook book, side)
