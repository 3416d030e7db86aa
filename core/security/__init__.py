"""Users, roles and permissions, login and password hashing, and personal-data encryption and masking."""
