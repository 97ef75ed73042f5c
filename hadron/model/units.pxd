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
