"""Personal data over time (LGPD): retention periods and the purge, and a person's requests
(export everything held about them, erase it). What is held where: docs/privacy.md.
"""
