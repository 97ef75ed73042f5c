from hadron.book.manager cimport BookManager
from hadron.venues.feedstats cimport FeedStats

cdef class StreamBase:
    cdef public object venue
    cdef public BookManager books
    cdef public object conn
    cdef public FeedStats stats
    cdef public object dead_letter
    cdef Py_ssize_t _rejected
