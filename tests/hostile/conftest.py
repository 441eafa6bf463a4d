from tests.api.conftest import client

__all__ = ["client"]  # the API test client fixture, shared with tests/api
