"""Live recognition sessions: camera readers, tracking, fair frame scheduling, evidence and
signed webhook delivery. Use cases over these live in facebank.services.sessions."""
