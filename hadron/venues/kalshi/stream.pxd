cimport cython
from hadron.venues.common cimport StreamBase
from hadron.venues.kalshi.normalize cimport normalize_delta

cdef class KalshiStream(StreamBase):
    cdef public object seq_mode
    cdef public bint yes_price
    cdef public object on_event
    cdef public object on_resync
    cdef public object on_private
    cdef public object on_venue
    cdef public object on_list
    cdef public object active_sids
    cdef public dict last_seq
    cdef public dict channels
    cdef public dict _sources

    @cython.locals(recv_ms=cython.longlong)
    cpdef on_capture_line(self, line)
    cpdef _on_delta(self, msg, recv_ns, raw)
