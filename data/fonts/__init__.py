"""The CJK fonts reports and the desktop embed (see README.md): Noto Sans SC, static TrueType, GBK subset."""
