"""Stands in for Cython's ``cython`` module where Cython is not installed: the hot modules test
``cython.compiled`` (true only in their compiled build, see :mod:`hadron.accel`)."""

compiled = False
