"""Policy regression tests use the ``policy_regression`` fixture from `sim.testing`."""

from sim.testing import policy_regression  # noqa: F401 - re-exported pytest fixture
