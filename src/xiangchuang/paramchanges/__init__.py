"""City parameter changes with four-eyes approval, and loading the effective parameters (YAML + approved
changes from the database)."""
