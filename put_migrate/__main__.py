"""``python -m put_migrate``: the same command as ``put-migrate``."""

from put_migrate.cli import main

if __name__ == "__main__":
    main(prog_name="put-migrate")
