cimport cython

cdef long long _NOT_PLAIN
cdef Py_ssize_t _SCAN_MAX_CHARS

@cython.locals(value=cython.longlong, digits=Py_ssize_t, places=Py_ssize_t, dot=bint, negative=bint, first=bint,
               ch=Py_UCS4)
cpdef long long scan_fixed(str text, int decimals, bint signed) noexcept
@cython.locals(value=cython.longlong, ch=Py_UCS4)
cpdef long long scan_digits(str text) noexcept

cdef tuple _PRICE_INTS
cdef long long _ONE
@cython.locals(value=cython.longlong)
cpdef object price_of(str text)

cpdef object read_price(str text)
@cython.locals(size=cython.longlong)
cpdef object read_size(str text)
cdef long long _MAX_MS
@cython.locals(ms=cython.longlong, ns=cython.longlong)
cpdef long long read_ms(str text) noexcept

cdef unsigned long long _ONES, _HIGH_BITS, _SPACES, _QUOTES, _BACKSLASHES
cdef unsigned long long _word(const unsigned char* u) noexcept
@cython.locals(m=Py_ssize_t, b="const unsigned char*", u="const unsigned char*", q="const unsigned char*",
               k=Py_ssize_t, end=Py_ssize_t)
cpdef Py_ssize_t match_at(bytes p, Py_ssize_t n, Py_ssize_t i, bytes lit) noexcept
@cython.locals(b="const unsigned char*", c=cython.uchar, w=cython.ulonglong, quotes=cython.ulonglong,
               slashes=cython.ulonglong)
cpdef Py_ssize_t text_end(bytes p, Py_ssize_t n, Py_ssize_t i) noexcept
