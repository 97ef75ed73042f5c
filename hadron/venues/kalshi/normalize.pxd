cimport cython
from hadron.model.units cimport read_price, read_size

cdef long long _MS

@cython.locals(instruments=dict, ts_ms=cython.longlong)
cpdef object normalize_delta(object frame, object ts_recv, bint yes_price=*)
