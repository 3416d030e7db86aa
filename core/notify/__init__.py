"""The notification outbox: messages by app push, SMS and notice board, delivered by pluggable senders."""
