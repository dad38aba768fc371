"""Every stored text's size limit, in one place: the tables size their columns from these,
the records' field types and the API's models refuse longer values with them.

MySQL and PostgreSQL enforce column sizes and SQLite does not, so a limit written twice would
let the backends disagree. Migrations keep their own literal sizes: they are history.
"""

from __future__ import annotations

from facebank.auth.passwords import USERNAME_MAX as USERNAME_MAX

# people and faces
NAME_MAX = 200
AGE_MAX = 150
GENDER_MAX = 32
ADDRESS_MAX = 500
EXTERNAL_ID_MAX = 128
MODEL_ID_MAX = 64
MEDIA_REF_LEN = 64  # a sha256 hex digest
MEDIA_TYPE_MAX = 16
SPLIT_FACES_MAX = 1000  # faces one split may move (one IN list, store/tx.py IN_CHUNK)

# accounts and API keys
PASSWORD_HASH_MAX = 255
ROLE_MAX = 16
API_KEY_NAME_MAX = 100
API_KEY_PREFIX_MAX = 16
API_KEY_HASH_LEN = 64
THROTTLE_KEY_MAX = 128

# the audit log
ACTOR_KIND_MAX = 16
ACTOR_NAME_MAX = 100
ACTION_MAX = 32
TARGET_KIND_MAX = 32
TARGET_ID_MAX = 128

# live sessions, events and deliveries
KEY_MAX = 128
URL_MAX = 2000
CAMERA_NAME_MAX = 100
SECRET_MIN = 16
SECRET_MAX = 256
FPS_MAX = 120.0
STATUS_MAX = 16
# A runner id: host, pid and a random suffix (facebank.sessions.leases).
RUNNER_ID_MAX = 100
HOST_MAX = 255
MODE_MAX = 8
EVENT_ID_MAX = 40
EVENT_TYPE_MAX = 32
TEXT_MAX = 1000  # error texts and reasons, clipped to fit

# import jobs
IMPORT_STATE_MAX = 16
IMPORT_SOURCE_KIND_MAX = 16
FILENAME_MAX = 255

# threshold calibrations
CALIBRATION_METHOD_MAX = 32

# unknown faces and negative labels
UNKNOWN_SOURCE_MAX = 16
SEEN_WHERE_MAX = 5  # sessions and cameras a cluster listing names (with a count of all)
