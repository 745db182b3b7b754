"""Transcripts: the format, host facts and expectations it records, reading, cast export."""
