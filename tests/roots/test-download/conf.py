extensions = ["myst_parser", "troubleshooter"]
exclude_patterns = ["_build"]
nitpicky = True
