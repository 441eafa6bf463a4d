"""Acoustic features of a recording, on request (``features=true``): how the voice sounds, besides what
the model makes of it. ``tracks`` measures the decoded audio every 10 ms as it streams past the
classifier; ``summary`` reads those tracks over the whole recording and over each timeline segment."""
