"""What the property operations share: state-machine transitions with their history, and pending charges."""
