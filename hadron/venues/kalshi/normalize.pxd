cimport cython

@cython.locals(instruments=dict, prices=dict, sizes=dict)
cpdef object normalize_delta(object frame, object ts_recv, bint yes_price=*)
