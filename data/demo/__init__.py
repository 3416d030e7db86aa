"""Demo site data: what the apps show on a fresh machine."""
