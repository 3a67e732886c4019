"""The lineage page: one self-contained HTML file drawing the joined graph (`--html`, `bridge demo`)."""
