"""Small widgets shared by the back-office screens."""
