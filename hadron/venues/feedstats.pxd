cdef class FeedStats:
    cdef public Py_ssize_t frames
    cdef dict _by_type
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


cdef class FrameSink:
    cdef public object on_frame
    cdef public object write
    cdef public object on_pong
    cdef public object stats
    cdef public object latency
    cdef public object read_latency
    cdef public long long frames
    cdef public long long last_frame_ns
    cdef long long _bounds[16]
    cdef Py_ssize_t _n_bounds
    cdef long long _lat[16]
    cdef long long _read[16]
    cdef long long _lat_sum
    cdef long long _read_sum

    cdef Py_ssize_t _bucket(self, long long ns) noexcept
    cpdef flush(self)
