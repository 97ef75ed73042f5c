cimport cython
from hadron.book.manager cimport BookManager, BookStats
from hadron.venues.common cimport StreamBase
from hadron.venues.polymarket.normalize cimport normalize_price_change

cdef class PolymarketStream(StreamBase):
    cdef public object on_event
    cdef public object meta
    cdef public object on_resync
    cdef public dict last_hash
    cdef public Py_ssize_t invalid_operations

    @cython.locals(head=int)
    cpdef _process(self, bytes raw, recv_ns)
    cpdef on_message(self, msg, recv_ns, raw)
    @cython.locals(books=BookManager, book_stats=BookStats, stale=Py_ssize_t, mismatches=Py_ssize_t)
    cpdef _on_price_change(self, msg, recv_ns, raw)
