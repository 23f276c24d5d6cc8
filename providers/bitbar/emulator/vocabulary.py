"""The doc's enumerations and the fixed values the handlers check against."""

from __future__ import annotations

PROJECT_TYPES = ("ANDROID", "CTS", "IOS", "UIAUTOMATOR")
OS_TYPES = ("ANDROID", "IOS")
SCHEDULERS = ("PARALLEL", "SERIAL")
MODES = ("FULL_RUN", "APP_CRAWLER", "CTS", "UIAUTOMATOR", "IOS")
LIMITATION_TYPES = ("PACKAGE", "CLASS")
NOTIFICATION_TYPES = ("ALWAYS", "ON_FAILURE")
REPORT_TYPES = ("HTML", "PDF", "CSV")
REPORTS = ("summary", "failures", "detail-failures")
FILE_KINDS = ("application", "test", "data")
# The doc marks FULL_RUN "Default"; projects of the other types default to their own mode.
DEFAULT_MODE = {"ANDROID": "FULL_RUN", "CTS": "CTS", "UIAUTOMATOR": "UIAUTOMATOR", "IOS": "IOS"}
MODES_NEEDING_TEST_FILE = ("FULL_RUN", "UIAUTOMATOR")
PREVIEW_ROWS = 10
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
FINAL_STATUSES = ("SUCCEEDED", "WARNING", "FAILED", "EXCLUDED")
