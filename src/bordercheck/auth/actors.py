"""Who is acting: the person, machine or command behind a change, and the bureau they act for."""

from __future__ import annotations

from dataclasses import dataclass

from bordercheck.auth.models import Role
from bordercheck.errors import Forbidden


@dataclass(frozen=True)
class Actor:
    """Recorded as ``name`` in every history entry; ``bureau_code`` is the bureau's country."""

    name: str
    role: Role
    bureau_code: str

    def ensure_may_write_records_of(self, country: str) -> None:
        """Only the issuing country's bureau changes its records; admins may act for any."""
        if self.role is Role.ADMIN:
            return
        if self.role is Role.BUREAU_OFFICER and self.bureau_code == country:
            return
        if self.role is not Role.BUREAU_OFFICER:
            raise Forbidden(f"{self.name} ({self.role.value}) may not change records")
        raise Forbidden(
            f"bureau {self.bureau_code} may not change records issued by {country}; "
            f"only the {country} bureau may",
            country=country,
        )


def command_line_actor(bureau_code: str | None, system_code: str) -> Actor:
    """The actor for a command run on the server: the named bureau, or the system itself."""
    import getpass

    who = f"cli:{getpass.getuser()}"
    if bureau_code is None:
        return Actor(name=who, role=Role.ADMIN, bureau_code=system_code)
    return Actor(name=who, role=Role.BUREAU_OFFICER, bureau_code=bureau_code)
