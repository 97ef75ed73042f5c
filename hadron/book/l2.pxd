cimport cython

cdef long long _ONE

cdef class L2Book:
    cdef public list _asks
    cdef public list _bids
    cdef public Py_ssize_t _ba
    cdef public Py_ssize_t _bb
    cdef public Py_ssize_t _n
    cdef public object instrument
    cdef public Py_ssize_t tick

    @cython.locals(tick=Py_ssize_t, i=Py_ssize_t, n=Py_ssize_t, ladder=list)
    cpdef object change_bid(self, long long price, object change)
    @cython.locals(tick=Py_ssize_t, i=Py_ssize_t, n=Py_ssize_t, ladder=list)
    cpdef object change_ask(self, long long price, object change)
    @cython.locals(tick=Py_ssize_t, i=Py_ssize_t, n=Py_ssize_t, ladder=list)
    cpdef set_bid(self, long long price, object size)
    @cython.locals(tick=Py_ssize_t, i=Py_ssize_t, n=Py_ssize_t, ladder=list)
    cpdef set_ask(self, long long price, object size)
