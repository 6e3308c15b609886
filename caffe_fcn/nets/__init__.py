"""Net generators: every FCN variant from one small NetSpec library (trunks, heads, registry)."""
