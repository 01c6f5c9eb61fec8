"""Low-level runtimes, by hand: OCI runtime specs (what `runc spec` writes) and a tiny runtime in plain Python.

- :mod:`.spec`: read, edit and summarise an OCI runtime config.json (pure);
- :mod:`.tinyrun`: lesson 10's container runtime of about a hundred lines (namespaces, a cgroup, pivot_root).
"""
