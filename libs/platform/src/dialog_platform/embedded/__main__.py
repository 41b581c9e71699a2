"""Entry point of the embedded server's child process: nx-27017 with our patches applied."""

from .patches import main

if __name__ == "__main__":
    main()
