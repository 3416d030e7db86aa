"""Tests of the reports: numbers read back from Excel, text from PDF, pages rendered to PNG."""
