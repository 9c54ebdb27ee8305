"""fibrosurvey: patient surveys for fibromyalgia research.

The core (everything except :mod:`fibrosurvey.web`) is pure Python and never imports Django.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
