"""Approval chains (maker-checker) and their attachments; business packages register handlers for outcomes."""
