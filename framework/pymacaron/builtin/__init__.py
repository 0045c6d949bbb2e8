"""Endpoints every pymacaron service serves: /ping, /version, /auth/version."""
