"""System tests run whole notebooks (several times, some at once): they are marked slow."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: runs whole notebooks several times (minutes); CI runs them")
