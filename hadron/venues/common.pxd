from hadron.book.manager cimport BookManager

cdef class StreamBase:
    cdef public object venue
    cdef public BookManager books
    cdef public object conn
    cdef public object stats
    cdef public object dead_letter
    cdef public Py_ssize_t _rejected
    cdef public dict _counts
