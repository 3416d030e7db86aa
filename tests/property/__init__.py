"""Tests of smart property (core/property)."""
