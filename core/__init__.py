"""Anju core: domain services over the database; no UI, HTTP or report code lives here."""
