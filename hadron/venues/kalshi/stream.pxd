cimport cython
from hadron.venues.common cimport StreamBase
from hadron.venues.kalshi.normalize cimport normalize_delta
from hadron.model.units cimport match_at, text_end

cdef bytes _CAPTURE_HEAD, _EVENT_KEY, _DELTA_HEAD, _SEQ_KEY, _TICKER_KEY, _MARKET_ID_KEY, _PRICE_KEY, _SIZE_KEY
cdef bytes _SIDE_KEY, _YES, _NO, _TS_KEY, _TS_MS_KEY, _FRAME_END, _LINE_END
cdef Py_ssize_t _MAX_DIGITS, _MAX_TICKER, _MAX_FIXED
cdef long long _MAX_MILLIS, _NOT_FIXED, _ONE, _MS
cdef int _PRICE_PLACES, _SIZE_PLACES

@cython.locals(start=Py_ssize_t)
cdef Py_ssize_t _int_end(const unsigned char* p, Py_ssize_t n, Py_ssize_t i) noexcept
@cython.locals(value=cython.longlong)
cdef long long _int_value(const unsigned char* p, Py_ssize_t i, Py_ssize_t end) noexcept
@cython.locals(value=cython.longlong, digits=Py_ssize_t, places=cython.int, dot=bint, negative=bint, c=cython.uchar)
cdef long long _fixed(const unsigned char* p, Py_ssize_t i, Py_ssize_t end, int decimals, bint signed) noexcept

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
    cdef dict _sources
    cdef public bint scan_deltas
    cdef public Py_ssize_t scanned
    cdef long long _s_sid, _s_seq, _s_price, _s_size, _s_ts_ms
    cdef bint _s_yes
    cdef Py_ssize_t _s_t0, _s_t1
    cdef bytes _ticker_raw
    cdef object _ticker_instrument

    cpdef on_frame(self, raw, recv_ns)
    @cython.locals(raw=bytes, recv_ms=cython.longlong, p="const unsigned char*", n=Py_ssize_t, i=Py_ssize_t,
                   end=Py_ssize_t)
    cpdef on_capture_line(self, line)
    cdef bint _admit(self, sid, seq) except -1
    cpdef _on_delta(self, msg, recv_ns, raw)
    @cython.locals(p="const unsigned char*", n=Py_ssize_t, end=Py_ssize_t, sid=cython.longlong,
                   seq=cython.longlong, t0=Py_ssize_t, t1=Py_ssize_t, price=cython.longlong, size=cython.longlong,
                   yes=bint, ts_ms=cython.longlong)
    cpdef Py_ssize_t scan(self, bytes raw, Py_ssize_t i)
    @cython.locals(sid=cython.longlong, seq=cython.longlong, price=cython.longlong, size=cython.longlong,
                   ts_ms=cython.longlong, bid=bint)
    cdef _on_scanned(self, bytes raw, recv_ns)
    @cython.locals(t0=Py_ssize_t, t1=Py_ssize_t)
    cdef str _scanned_instrument(self, bytes raw)
