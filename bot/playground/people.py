"""The people in the playground's workspace, and its one channel."""

from __future__ import annotations

from dataclasses import dataclass

TEAM_ID = "T0PLAYGROUND"
TEAM_DOMAIN = "playground"
CHANNEL_ID = "C0PLAYGROUND"
CHANNEL_NAME = "ml-releases"
BOT_USER_ID = "U0PROMOBOT"
BOT_ID = "B0PROMOBOT"
APP_ID = "A0PROMOBOT"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str

    @property
    def handle(self) -> str:
        """The short name Slack shows in mentions: `ann`."""
        return self.name.split()[0].lower()

    @property
    def label(self) -> str:
        """`Ann (ML engineer)`: the name with the role, as the switcher's tooltip shows it."""
        return f"{self.name} ({self.role})"


ENGINEER = Person("U0PLAYANN", "Ann", "ML engineer")
APPROVER = Person("U0PLAYBOB", "Bob", "approver")
SECOND_APPROVER = Person("U0PLAYCAT", "Cat", "approver")
PEOPLE: tuple[Person, ...] = (ENGINEER, APPROVER, SECOND_APPROVER)
#: What PROMOBOT_APPROVERS is set to, so that the roles above are the roles promobot sees.
APPROVER_IDS: tuple[str, ...] = (APPROVER.id, SECOND_APPROVER.id)


def person(user_id: str) -> Person | None:
    return next((p for p in PEOPLE if p.id == user_id), None)


def dm_channel(user_id: str) -> str:
    """The id of the app's direct-message channel with `user_id` (D + the user's id)."""
    return "D" + user_id[1:]


#: A user group, for PROMOBOT_APPROVERS=S0PLAYAPPROVERS: both approvers.
GROUPS: dict[str, tuple[str, ...]] = {"S0PLAYAPPROVERS": APPROVER_IDS}
