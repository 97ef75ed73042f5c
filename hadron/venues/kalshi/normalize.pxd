cimport cython
from hadron.model.units cimport price_of

cdef long long _MS

@cython.locals(instruments=dict, prices=dict, sizes=dict, ts_ms=cython.longlong)
cpdef object normalize_delta(object frame, object ts_recv, bint yes_price=*)
