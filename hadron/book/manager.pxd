cimport cython
from hadron.book.l2 cimport L2Book

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

cdef class BookManager:
    cdef public dict _books
    cdef public object stats
    cdef public list _top_listeners
    cdef public list _invalidation_listeners
    cdef public object clock

    cpdef get(self, instrument)

    @cython.locals(book=ManagedBook, bb=Py_ssize_t, ba=Py_ssize_t, tick=Py_ssize_t, listeners=list)
    cpdef bint apply_delta(self, object delta, object source=*)
    @cython.locals(bb=Py_ssize_t, ba=Py_ssize_t, tick=Py_ssize_t, bid=bint, ask=bint)
    cpdef _emit_top(self, ManagedBook book, object ts_event, object ts_recv)
