"""The Django capture platform: the only package that imports Django.

Settings: ``fibrosurvey.web.settings`` (every value from an environment variable).
"""
