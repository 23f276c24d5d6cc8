"""Perfecto fixtures: the emulator on loopback in every doc variant, found by plans through env vars as a user's CI would.

Every test that takes ``perfecto`` runs once per variant (``VARIANTS``): the
provider must work against each server the doc allows.
"""

from __future__ import annotations

from labform.providers.perfecto import emulator as perfecto_emulator

TOKEN = perfecto_emulator.SANDBOX_TOKEN

PERFECTO_PROVIDER = """providers:
  perfecto:
    endpoint: ${env.PERFECTO_URL}
    security_token: ${env.PERFECTO_SECURITY_TOKEN}
    token_header: ${env.PERFECTO_TOKEN_HEADER:-PERFECTO_AUTHORIZATION}
"""
