extensions = ["myst_parser", "troubleshooter"]
exclude_patterns = ["_build"]
nitpicky = True
troubleshooter_platform = {"service": "Example Hub"}
