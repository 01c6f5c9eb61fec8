"""Running a workshop offline: the pack file format (verified before anything is written) and registry mirrors.

- :mod:`.pack`: the workshop pack (images, wheels, notebooks with checksums), written and unpacked (pure);
- :mod:`.mirrors`: the daemon.json / registries.conf settings that point a room at a local mirror (pure).
"""
