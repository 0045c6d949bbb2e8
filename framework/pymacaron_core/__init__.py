"""Compatibility aliases for services written against the original pymacaron-core."""
