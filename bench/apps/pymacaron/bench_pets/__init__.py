"""Handlers of bench/petstore.yaml for pymacaron."""
