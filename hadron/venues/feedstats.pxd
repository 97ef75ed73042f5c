cdef class FeedStats:
    cdef public Py_ssize_t frames
    cdef public dict _by_type
    cdef public object delta_kind
    cdef public Py_ssize_t delta_frames
    cdef public Py_ssize_t decode_errors
    cdef public Py_ssize_t seq_gaps
    cdef public Py_ssize_t seq_jumps
    cdef public Py_ssize_t seq_resets
    cdef public Py_ssize_t seq_duplicates
    cdef public Py_ssize_t stale_frames
    cdef public Py_ssize_t trades
    cdef public Py_ssize_t hash_checks
    cdef public Py_ssize_t hash_mismatches
    cdef public Py_ssize_t resync_requests
    cdef public Py_ssize_t passed_on
    cdef public Py_ssize_t unconsumed

    cpdef count(self, kind, Py_ssize_t n=*)
