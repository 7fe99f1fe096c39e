extensions = ["troubleshooter"]
html_theme = "furo"
exclude_patterns = ["_build"]
