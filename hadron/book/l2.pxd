cimport cython

cdef long long _ONE
cdef int _TOP, _CROSSED

cdef class L2Book:
    cdef list _asks
    cdef list _bids
    cdef Py_ssize_t _ba
    cdef Py_ssize_t _bb
    cdef Py_ssize_t _n
    cdef public object instrument
    cdef public Py_ssize_t tick

    @cython.locals(tick=Py_ssize_t, i=Py_ssize_t, n=Py_ssize_t, ladder=list, moved=cython.int)
    cpdef int change_bid(self, long long price, object change) except? -2
    @cython.locals(tick=Py_ssize_t, i=Py_ssize_t, n=Py_ssize_t, ladder=list, moved=cython.int)
    cpdef int change_ask(self, long long price, object change) except? -2
    @cython.locals(tick=Py_ssize_t, i=Py_ssize_t, n=Py_ssize_t, ladder=list, moved=cython.int)
    cpdef int set_bid(self, long long price, object size) except? -2
    @cython.locals(tick=Py_ssize_t, i=Py_ssize_t, n=Py_ssize_t, ladder=list, moved=cython.int)
    cpdef int set_ask(self, long long price, object size) except? -2
    cpdef bint top_matches(self, long long bid, long long ask) except -1
    @cython.locals(bb=Py_ssize_t, ba=Py_ssize_t, tick=Py_ssize_t, bid=bint, ask=bint)
    cpdef object top_of_book(self, object ts_event, object ts_recv)
