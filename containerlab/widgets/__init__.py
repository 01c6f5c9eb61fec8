"""Live views over the pure renderers; the only code that imports ipywidgets."""
