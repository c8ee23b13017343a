"""bordercheck: stolen and lost travel documents, recorded and screened."""

__version__ = "0.1.0"
