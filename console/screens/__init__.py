"""One screen per task of the back office: log in, home, help."""
