"""Migration scripts, applied in order by `hdr db upgrade`."""
