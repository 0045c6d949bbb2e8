"""The example pymacaron service: a small pet shop (apis/petshop.yaml)."""
