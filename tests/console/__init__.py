"""Tests of the terminal back office (Textual, driven by Pilot)."""
