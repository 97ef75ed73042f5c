cimport cython
from hadron.book.l2 cimport L2Book

cdef long long _ONE
cdef int _APPLIED, _BBO_MISMATCH, _STALE, _DROPPED, _NEGATIVE, _TOP, _CROSSED, _REFUSED

cdef class ManagedBook(L2Book):
    cdef public Py_ssize_t bbo_misses
    cdef public bint crossed
    cdef public bint ever_live
    cdef public bint polled
    cdef public object reason
    cdef public object source
    cdef public object state
    cdef public object ts_event
    cdef public object ts_recv
    cdef public Py_ssize_t venue_tick
    cdef public object halted
    cdef public long long close_ns

cdef class BookStats:
    cdef public Py_ssize_t snapshots
    cdef public Py_ssize_t deltas_applied
    cdef public Py_ssize_t snapshot_checks
    cdef public Py_ssize_t snapshot_mismatches
    cdef public Py_ssize_t snapshot_clears
    cdef public Py_ssize_t bbo_checks
    cdef public Py_ssize_t bbo_mismatches
    cdef public Py_ssize_t negative_levels
    cdef public Py_ssize_t crossed_books
    cdef public Py_ssize_t crossed_updates
    cdef public Py_ssize_t resyncs
    cdef public Py_ssize_t resync_levels_changed
    cdef public Py_ssize_t deltas_dropped
    cdef public Py_ssize_t stale_updates
    cdef public Py_ssize_t invalidations
    cdef public dict bad_values
    cdef public dict examples

cdef class BookManager:
    cdef dict _books
    cdef public BookStats stats
    cdef list _top_listeners
    cdef list _invalidation_listeners
    cdef public list _clock_listeners
    cdef dict _trading

    cpdef get(self, instrument)

    @cython.locals(book=ManagedBook, moved=cython.int, outcome=cython.int, price=cython.longlong,
                   said_bid=cython.longlong, said_ask=cython.longlong)
    cpdef int apply_delta(self, object delta, object source=*, bint in_order=*) except -1
    @cython.locals(book=ManagedBook, moved=cython.int)
    cpdef int apply_change(self, object instrument, bint bid, long long price, object change, object ts_event,
                           object ts_recv, object source=*) except -1
    cpdef _emit_top(self, ManagedBook book, object ts_event, object ts_recv)
