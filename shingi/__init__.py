"""shingi (審議): deliberation procedures of Japanese local-government privacy councils."""

__version__ = "0.1.0"
