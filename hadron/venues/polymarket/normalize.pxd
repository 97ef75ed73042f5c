cimport cython

cpdef object parse_ms(object text)

@cython.locals(prices=dict, sizes=dict, instruments=dict, out=list)
cpdef object normalize_price_change(object msg, object ts_recv)
