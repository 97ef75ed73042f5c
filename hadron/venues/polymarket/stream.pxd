cimport cython
from hadron.book.manager cimport BookManager
from hadron.venues.common cimport StreamBase
from hadron.venues.polymarket.normalize cimport normalize_price_change

cdef int _STALE, _BBO_MISMATCH

cdef class PolymarketStream(StreamBase):
    cdef public object on_event
    cdef public object meta
    cdef public object on_resync
    cdef public dict last_hash
    cdef public Py_ssize_t invalid_operations

    @cython.locals(head=int)
    cpdef _process(self, bytes raw, recv_ns)
    cpdef on_message(self, msg, recv_ns, raw)
    @cython.locals(books=BookManager, outcome=cython.int)
    cpdef _on_price_change(self, msg, recv_ns, raw)
