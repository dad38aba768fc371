"""Stand-ins for the outside world of a live session, for tests and `facebank sessions-bench`:
synthetic classroom video made from face photos, an MJPEG camera server and a webhook
receiver, all on loopback."""
