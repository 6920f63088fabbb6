"""Accounts and authentication: password policy, argon2id, lockout, server-side sessions, TOTP for staff,
API tokens with scopes, database-backed rate limits, and the user's data scope."""
