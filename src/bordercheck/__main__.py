"""``python -m bordercheck`` runs the command line."""

from bordercheck.cli import main

main()
