"""Data shipped with Anju: migrations, reference data, demo data, translations."""
