"""通知公告: notices and announcements targeted at a community, buildings or houses, with read status."""
