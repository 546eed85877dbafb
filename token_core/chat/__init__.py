"""Chat channels' core: the message port, chat links, transcripts, redaction, fraud reports."""
