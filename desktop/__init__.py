"""The PySide6 counter app (`anju desktop`): a shell of counter modules (property today, escrow later)."""
