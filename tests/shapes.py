"""The production-shaped schema the tests use lives in the package, so notebook 07 shows the very same one."""

from labkit.data import make_orders

__all__ = ["make_orders"]
