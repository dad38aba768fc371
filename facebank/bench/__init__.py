"""`facebank bench`: load a running server, measure the bare pipeline's ceiling on the same
machine and photos, and report how close the server comes to it."""
