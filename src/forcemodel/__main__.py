"""Run the command line as ``python -m forcemodel``."""

from forcemodel.cli import main

if __name__ == "__main__":
    main()
