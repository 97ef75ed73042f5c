cimport cython
from hadron.model.units cimport read_ms, read_price, read_size

cdef long long _MS

cpdef object parse_ms(object text)

@cython.locals(instruments=dict, out=list, ns=cython.longlong)
cpdef object normalize_price_change(object msg, object ts_recv)
