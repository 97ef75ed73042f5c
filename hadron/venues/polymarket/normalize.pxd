cpdef object parse_ms(object text)
