pytest_plugins = ["dialog_platform.testing.fixtures"]
