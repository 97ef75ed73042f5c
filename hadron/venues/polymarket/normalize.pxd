cimport cython
from hadron.model.units cimport price_of, scan_digits, scan_fixed

cdef long long _MS

cpdef object parse_ms(object text)

@cython.locals(prices=dict, sizes=dict, instruments=dict, out=list, ms=cython.longlong, size=cython.longlong)
cpdef object normalize_price_change(object msg, object ts_recv)
