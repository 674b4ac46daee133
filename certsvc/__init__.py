"""certsvc: electronic licences (电子证照) and seals (电子印章) with verification."""

__version__ = "0.1.0"
