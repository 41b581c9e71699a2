"""Pytest fixtures that start real servers (RabbitMQ, nx-27017, moto's S3) for every test suite.

The repository's root conftest.py loads `dialog_platform.testing.fixtures` as a plugin.
"""
